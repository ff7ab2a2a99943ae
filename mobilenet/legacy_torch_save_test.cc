// The legacy torch.save format (pre-1.6, torchvision's original weight files) reads through ReadStateDict like the zip
// format: the same tensors, views sharing their storage; torch.hub's hash prefix in a file name is checked; damaged
// files are errors naming the file, never crashes. Fixtures: testdata/make_legacy_fixtures.py (see its docstring).
#include "mobilenet/legacy_torch_save.h"

#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mobilenet/state_dict_io.h"

namespace mobilenet {
namespace {

constexpr char kDir[] = "mobilenet/testdata/legacy/";

std::string TempPath(const std::string& name) { return std::string(std::getenv("TEST_TMPDIR")) + "/" + name; }

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// What make_legacy_fixtures.py saved, recomputed with the same formulas.
StateDict ExpectedState() {
  const auto floats = [](int64_t n) { return torch::arange(n, torch::kFloat); };
  StateDict state;
  state["0.weight"] = (floats(6) / 8 - 0.25).view({3, 2, 1, 1});
  state["0.bias"] = floats(3) * -1.5;
  state["1.weight"] = 1 + floats(3) / 4;
  state["1.bias"] = floats(3) / -4;
  state["1.running_mean"] = floats(3) * 0.125;
  state["1.running_var"] = 2 + floats(3);
  state["1.num_batches_tracked"] = torch::full({}, 7, torch::kLong);
  state["extra.double"] = torch::arange(4, torch::kDouble) / 3;
  const torch::Tensor base = floats(20) * 0.5 - 3;
  state["shared.block"] = base.slice(0, 2, 8).view({2, 3});
  state["shared.every_third"] = base.slice(0, 9, 19, 3);
  state["shared.transposed"] = base.slice(0, 0, 6).view({2, 3}).t();
  return state;
}

void ExpectSameState(const StateDict& actual, const StateDict& expected, const std::string& file) {
  ASSERT_EQ(actual.size(), expected.size()) << file;
  for (const auto& [name, tensor] : expected) {
    const auto it = actual.find(name);
    ASSERT_NE(it, actual.end()) << file << ": " << name << " missing";
    EXPECT_EQ(it->second.scalar_type(), tensor.scalar_type()) << file << ": " << name;
    EXPECT_EQ(it->second.sizes(), tensor.sizes()) << file << ": " << name;
    EXPECT_TRUE(torch::equal(it->second, tensor)) << file << ": " << name << "\n"
                                                  << it->second << "\nexpected\n"
                                                  << tensor;
  }
}

// The torch.hub-named copy of legacy_state_dict.pt (its name changes whenever the fixtures are rewritten).
std::string HashNamedFixture() {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator(kDir)) {
    if (entry.path().extension() == ".pth") found.push_back(entry.path().string());
  }
  EXPECT_EQ(found.size(), 1u) << "expected one .pth fixture in " << kDir;
  return found.empty() ? "" : found[0];
}

// An error that names `path`.
void ExpectErrorNaming(const absl::StatusOr<StateDict>& state, const std::string& path, const std::string& fragment) {
  ASSERT_FALSE(state.ok()) << path << " was read";
  const std::string message(state.status().message());
  EXPECT_NE(message.find("'" + path + "'"), std::string::npos) << message;
  EXPECT_NE(message.find(fragment), std::string::npos) << "expected '" << fragment << "' in: " << message;
}

TEST(LegacyTorchSaveTest, LegacyAndZipFilesHoldTheSameTensors) {
  for (const std::string name : {"legacy_state_dict.pt", "zip_state_dict.pt"}) {
    const std::string path = kDir + name;
    const absl::StatusOr<StateDict> state = ReadStateDict(path);
    ASSERT_TRUE(state.ok()) << state.status();
    ExpectSameState(*state, ExpectedState(), name);
  }
  EXPECT_TRUE(IsLegacyTorchSave(ReadBytes(std::string(kDir) + "legacy_state_dict.pt")));
  EXPECT_FALSE(IsLegacyTorchSave(ReadBytes(std::string(kDir) + "zip_state_dict.pt")));
}

TEST(LegacyTorchSaveTest, ViewsShareOneStorageAtTheirOffsets) {
  const absl::StatusOr<StateDict> state = ReadStateDict(std::string(kDir) + "legacy_state_dict.pt");
  ASSERT_TRUE(state.ok()) << state.status();
  const torch::Tensor& block = state->at("shared.block");
  const torch::Tensor& every_third = state->at("shared.every_third");
  const torch::Tensor& transposed = state->at("shared.transposed");
  EXPECT_TRUE(block.is_alias_of(every_third));
  EXPECT_TRUE(block.is_alias_of(transposed));
  EXPECT_FALSE(block.is_alias_of(state->at("0.weight")));
  EXPECT_EQ(block.storage().nbytes(), 20 * sizeof(float));
  EXPECT_EQ(block.storage_offset(), 2);
  EXPECT_EQ(every_third.storage_offset(), 9);
  EXPECT_EQ(every_third.strides(), torch::IntArrayRef({3}));
  EXPECT_EQ(transposed.storage_offset(), 0);
  EXPECT_EQ(transposed.strides(), torch::IntArrayRef({1, 3}));
  // Writing through one view shows in the others, as in Python.
  block.view({-1})[5] = 100;  // base[7]
  EXPECT_EQ(transposed.storage().data_ptr().get(), block.storage().data_ptr().get());
  const torch::Tensor base = torch::from_blob(block.storage().data(), {20}, torch::kFloat);
  EXPECT_EQ(base[7].item<float>(), 100);
}

TEST(LegacyTorchSaveTest, OneEntryDictAndOneStorage) {
  // Python pickles these with SETITEM and APPEND, which LibTorch 1.13's unpickler lacks.
  const absl::StatusOr<StateDict> state = ReadStateDict(std::string(kDir) + "legacy_one_tensor.pt");
  ASSERT_TRUE(state.ok()) << state.status();
  ASSERT_EQ(state->size(), 1u);
  EXPECT_TRUE(torch::equal(state->at("w"), torch::arange(5, torch::kFloat) - 2));
}

TEST(LegacyTorchSaveTest, Sha256KnownAnswers) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Lengths around the padding's block boundaries (hashlib's digests).
  EXPECT_EQ(Sha256Hex(std::string(55, 'a')), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(Sha256Hex(std::string(56, 'a')), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(Sha256Hex(std::string(63, 'a')), "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
  EXPECT_EQ(Sha256Hex(std::string(64, 'a')), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  EXPECT_EQ(Sha256Hex(std::string(119, 'a')), "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(LegacyTorchSaveTest, HashPrefixInTheFileNameIsChecked) {
  const std::string named = HashNamedFixture();
  ASSERT_FALSE(named.empty());
  const std::string bytes = ReadBytes(named);
  const std::string digest = Sha256Hex(bytes);
  const std::string prefix = named.substr(named.rfind('-') + 1, 8);
  ASSERT_EQ(digest.substr(0, 8), prefix) << "the fixture's name does not carry its hash: rerun the fixture script";

  const absl::StatusOr<StateDict> state = ReadStateDict(named);
  ASSERT_TRUE(state.ok()) << state.status();
  ExpectSameState(*state, ExpectedState(), named);

  // The same bytes under another hash: refused, naming the file, the prefix and the digest.
  std::string wrong = prefix;
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  const std::string renamed = TempPath("mobilenet_v2-" + wrong + ".pth");
  WriteBytes(renamed, bytes);
  ExpectErrorNaming(ReadStateDict(renamed), renamed, "hash prefix in its name, " + wrong + ", does not match");
  EXPECT_NE(std::string(ReadStateDict(renamed).status().message()).find(digest), std::string::npos);

  // The whole digest also matches; names outside the convention are not checked.
  for (const std::string& name :
       {"weights-" + digest + ".pth", "weights-" + wrong + ".pt", "weights-" + wrong.substr(0, 7) + ".pth",
        "-" + wrong + ".pth", "weights-" + std::string("ABCDEF01") + ".pth", "weights_" + wrong + ".pth"}) {
    WriteBytes(TempPath(name), bytes);
    const absl::StatusOr<StateDict> other = ReadStateDict(TempPath(name));
    EXPECT_TRUE(other.ok()) << name << ": " << other.status();
  }
  // The check applies to the zip format too, and to damaged downloads.
  const std::string zip = ReadBytes(std::string(kDir) + "zip_state_dict.pt");
  WriteBytes(TempPath("zip-" + Sha256Hex(zip).substr(0, 10) + ".pth"), zip);
  EXPECT_TRUE(ReadStateDict(TempPath("zip-" + Sha256Hex(zip).substr(0, 10) + ".pth")).ok());
  const std::string truncated = TempPath("mobilenet_v2-" + prefix + ".pth");
  WriteBytes(truncated, bytes.substr(0, bytes.size() - 1));
  ExpectErrorNaming(ReadStateDict(truncated), truncated, "does not match the file's SHA-256");
  EXPECT_TRUE(CheckHashPrefixInFileName(bytes, "dir-" + wrong + ".pth/weights.pth").ok());
}

TEST(LegacyTorchSaveTest, EveryTruncationIsAnErrorNamingTheFile) {
  const std::string bytes = ReadBytes(std::string(kDir) + "legacy_state_dict.pt");
  // Every length, in memory (the reader behind ReadStateDict); every 50th also through a file.
  for (size_t kept = 0; kept < bytes.size(); ++kept) {
    const absl::StatusOr<c10::IValue> value = ReadLegacyTorchSave(bytes.substr(0, kept), "truncated.pt");
    ASSERT_FALSE(value.ok()) << "truncated to " << kept << " of " << bytes.size() << " bytes and still read";
    ASSERT_NE(std::string(value.status().message()).find("'truncated.pt'"), std::string::npos) << value.status();
  }
  const std::string path = TempPath("truncated.pt");
  for (size_t kept = 1; kept < bytes.size(); kept += 50) {
    WriteBytes(path, bytes.substr(0, kept));
    ExpectErrorNaming(ReadStateDict(path), path, "");
  }
  WriteBytes(path, bytes.substr(0, bytes.size() - 10));  // inside the last storage's data
  ExpectErrorNaming(ReadStateDict(path), path, "bytes follow (truncated?)");
  WriteBytes(path, bytes.substr(0, 100));  // inside sys_info
  ExpectErrorNaming(ReadStateDict(path), path, "sys_info: the file ends at byte 100 inside the pickle");
  WriteBytes(path, bytes.substr(0, 8));
  ExpectErrorNaming(ReadStateDict(path), path, "inside the magic number");
}

// Byte offsets of the parts of legacy_state_dict.pt.
struct Layout {
  size_t keys = 0;  // the storage key list's pickle
  size_t data = 0;  // the data section: the first storage's element count
};

Layout Parts(const std::string& bytes) {
  Layout layout;
  layout.keys = bytes.rfind(std::string("\x80\x02]q\x00(X", 7));
  layout.data = bytes.find("e.", layout.keys) + 2;
  return layout;
}

TEST(LegacyTorchSaveTest, DamageIsAnErrorSayingWhatWasExpected) {
  const std::string good = ReadBytes(std::string(kDir) + "legacy_state_dict.pt");
  const Layout layout = Parts(good);
  ASSERT_NE(layout.keys, std::string::npos);
  const std::string path = TempPath("damaged.pt");
  const auto read = [&](const std::string& bytes) {
    WriteBytes(path, bytes);
    return ReadStateDict(path);
  };
  const auto replaced = [&](const std::string& from, const std::string& to, size_t start = 0) {
    std::string bytes = good;
    const size_t at = bytes.find(from, start);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? bytes : bytes.replace(at, from.size(), to);
  };

  ExpectErrorNaming(read(good + "x"), path, "1 bytes follow the data of the last storage");
  std::string magic = good;
  magic[7] ^= 1;
  ExpectErrorNaming(read(magic), path, "is not a torch.save file");
  ExpectErrorNaming(read(replaced(std::string("M\xe9\x03", 3), std::string("M\xea\x03", 3))), path,
                    "expected the format version 1001");
  ExpectErrorNaming(read(replaced("little_endianq\x02\x88", "little_endianq\x02\x89")), path, "big-endian");
  std::string count = good;
  count[layout.data] += 1;  // the first storage's element count
  ExpectErrorNaming(read(count), path, "elements, the pickle ");
  count[layout.data + 7] = '\x7f';
  ExpectErrorNaming(read(count), path, "elements, but only");
  ExpectErrorNaming(read(replaced("_rebuild_tensor_v2", "_rebuild_tensor_v3")), path,
                    "the Python global 'torch._utils._rebuild_tensor_v3' is not supported");
  ExpectErrorNaming(read(replaced("torch\nFloatStorage", "torch\nFloatStorag_")), path,
                    "the Python global 'torch.FloatStorag_' is not supported");
  // A persistent id's sixth element (view_metadata) that is not None: an old storage view.
  ExpectErrorNaming(read(replaced("Nt", ")t")), path, "storage views");
  // The key list names a storage the object does not use (and so misses one it uses).
  std::string key = good;
  key[layout.keys + 11] = 'z';
  ExpectErrorNaming(read(key), path, "which the saved object does not use");
  // A memo reference to a slot never stored; a STOP that leaves the stack unbalanced.
  ExpectErrorNaming(read(replaced("h\x04", "h\xfe")), path, "memo slot 254 was never stored");
  // A hand-made file around a pickle that is not a dict of tensors.
  const std::string header = good.substr(0, good.find("\x80\x02\x63", 21));
  ExpectErrorNaming(read(header + std::string("\x80\x02K\x01K\x02.\x80\x02].", 11)), path, "STOP with 2 values");
  ExpectErrorNaming(read(header + std::string("\x80\x02K\x01.\x80\x02].", 9)), path, "does not hold a dict of tensors");
  ExpectErrorNaming(read(header + std::string("\x80\x02(((((t.", 9)), path, "STOP with 1 values and 4 MARKs");
  std::string deep = std::string("\x80\x02", 2) + std::string(200, ']') + std::string(199, 'a') + ".";
  ExpectErrorNaming(read(header + deep), path, "is not supported here");  // APPEND: not in the object's pickle
  deep = std::string("\x80\x02", 2) + "K\x01" + std::string(150, '\x85') + ".\x80\x02].";
  ExpectErrorNaming(read(header + deep), path, "nested more than 100 deep");
}

// The elements of `tensor` lie inside its storage (what ReadStateDict checks after ReadLegacyTorchSave).
bool WithinStorage(const torch::Tensor& tensor) {
  if (tensor.numel() == 0) return true;
  int64_t last = tensor.storage_offset();
  if (last < 0) return false;
  for (int64_t d = 0; d < tensor.dim(); ++d) {
    int64_t step = 0;
    if (tensor.stride(d) < 0 || __builtin_mul_overflow(tensor.size(d) - 1, tensor.stride(d), &step) ||
        __builtin_add_overflow(last, step, &last)) {
      return false;
    }
  }
  return last < static_cast<int64_t>(tensor.storage().nbytes() / tensor.element_size());
}

// Bit flips anywhere: each read is either an error naming the file or a value whose tensors can be read (flips in the
// tensor data itself, and some in names or shapes, go unnoticed: the legacy format has no checksums). Nothing
// crashes. In memory for every byte; every 7th byte also through ReadStateDict and a file.
TEST(LegacyTorchSaveTest, BitFlipsNeverCrash) {
  const std::string good = ReadBytes(std::string(kDir) + "legacy_state_dict.pt");
  const size_t data = Parts(good).data;
  int accepted = 0, accepted_in_data = 0, refused = 0;
  for (size_t at = 0; at < good.size(); ++at) {
    for (const unsigned char mask : {0x01, 0x10, 0x80, 0xff}) {
      std::string bytes = good;
      bytes[at] = static_cast<char>(bytes[at] ^ mask);
      const absl::StatusOr<c10::IValue> value = ReadLegacyTorchSave(bytes, "flipped.pt");
      if (!value.ok()) {
        ++refused;
        ASSERT_NE(std::string(value.status().message()).find("'flipped.pt'"), std::string::npos) << value.status();
        continue;
      }
      ++accepted;
      if (at >= data) ++accepted_in_data;
      if (!value->isGenericDict()) continue;
      for (const auto& entry : value->toGenericDict()) {
        if (!entry.value().isTensor()) continue;
        const torch::Tensor tensor = entry.value().toTensor();
        // sum() reads every element.
        if (WithinStorage(tensor) && tensor.is_floating_point()) (void)tensor.sum().item<double>();
      }
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(accepted_in_data, 0);
  std::printf("%d flips refused, %d read (%d of them in the data section)\n", refused, accepted, accepted_in_data);

  const std::string path = TempPath("flipped.pt");
  for (size_t at = 0; at < good.size(); at += 7) {
    std::string bytes = good;
    bytes[at] = static_cast<char>(bytes[at] ^ 0xff);
    WriteBytes(path, bytes);
    const absl::StatusOr<StateDict> state = ReadStateDict(path);
    if (!state.ok()) {
      ASSERT_NE(std::string(state.status().message()).find(path), std::string::npos) << state.status();
      continue;
    }
    for (const auto& [name, tensor] : *state) {
      ASSERT_TRUE(WithinStorage(tensor)) << name;
      if (tensor.is_floating_point()) (void)tensor.sum().item<double>();
    }
  }
}

}  // namespace
}  // namespace mobilenet
