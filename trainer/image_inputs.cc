#include "trainer/image_inputs.h"

#include <glob.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace trainer {
namespace {

namespace fs = std::filesystem;

bool HasImageExtension(const fs::path& path) {
  std::string extension = path.extension().string();
  if (extension.empty()) return false;
  extension.erase(0, 1);
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::vector<std::string>& known = ImageExtensions();
  return std::find(known.begin(), known.end(), extension) != known.end();
}

bool IsHidden(const fs::path& path) { return path.filename().string().rfind('.', 0) == 0; }

std::string Readable(const std::string& name, const ImageInputOptions& options) {
  if (options.base_dir.empty() || fs::path(name).is_absolute()) return name;
  return options.base_dir + "/" + name;
}

// Adds the image files under directory `name` (readable at `path`).
absl::Status WalkDirectory(const std::string& name, const std::string& path, const ImageInputOptions& options,
                           std::vector<ImageFile>& files) {
  std::string prefix = name;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  if (prefix != "/") prefix += "/";
  std::error_code error;
  fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, error), end;
  for (; !error && it != end; it.increment(error)) {
    const fs::directory_entry& entry = *it;
    if (IsHidden(entry.path())) {
      if (entry.is_directory(error)) it.disable_recursion_pending();
      continue;
    }
    if (entry.is_directory(error)) {
      if (!options.recursive) it.disable_recursion_pending();
      continue;
    }
    if (!entry.is_regular_file(error) || !HasImageExtension(entry.path())) continue;
    const std::string relative = fs::path(entry.path()).lexically_relative(path).string();
    files.push_back({prefix + relative, entry.path().string()});
  }
  if (error) return absl::UnavailableError("cannot read directory '" + name + "': " + error.message());
  return absl::OkStatus();
}

absl::Status AddExisting(const std::string& name, const std::string& path, const ImageInputOptions& options,
                         std::vector<ImageFile>& files) {
  std::error_code error;
  if (fs::is_directory(path, error)) return WalkDirectory(name, path, options, files);
  files.push_back({name, path});
  return absl::OkStatus();
}

absl::Status ExpandPattern(const std::string& pattern, const ImageInputOptions& options,
                           std::vector<ImageFile>& files) {
  const std::string readable = Readable(pattern, options);
  const size_t strip = readable.size() - pattern.size();  // the base_dir/ prefix glob's matches carry
  glob_t matches;
  const int result = glob(readable.c_str(), 0, nullptr, &matches);
  if (result == GLOB_NOMATCH) {
    globfree(&matches);
    return absl::NotFoundError("'" + pattern + "' matches no file");
  }
  if (result != 0) {
    globfree(&matches);
    return absl::UnavailableError(absl::StrCat("cannot expand '", pattern, "' (glob error ", result, ")"));
  }
  absl::Status status;
  for (size_t i = 0; i < matches.gl_pathc && status.ok(); ++i) {
    const std::string path = matches.gl_pathv[i];
    status = AddExisting(path.substr(strip), path, options, files);
  }
  globfree(&matches);
  return status;
}

}  // namespace

const std::vector<std::string>& ImageExtensions() {
  static const std::vector<std::string> extensions = {"jpg", "jpeg", "jpe",  "jfif", "png",  "webp", "gif",
                                                      "bmp", "tif",  "tiff", "heic", "heif", "avif"};
  return extensions;
}

absl::StatusOr<std::vector<ImageFile>> CollectImageFiles(const std::vector<std::string>& inputs,
                                                         const ImageInputOptions& options) {
  std::vector<ImageFile> files;
  for (const std::string& input : inputs) {
    const std::string path = Readable(input, options);
    std::error_code error;
    absl::Status status;
    if (fs::exists(path, error)) {
      status = AddExisting(input, path, options, files);
    } else if (input.find_first_of("*?[") != std::string::npos) {
      status = ExpandPattern(input, options, files);
    } else {
      status = absl::NotFoundError("'" + input + "': no such file or directory");
    }
    if (!status.ok()) return status;
  }
  std::sort(files.begin(), files.end(), [](const ImageFile& a, const ImageFile& b) { return a.name < b.name; });
  files.erase(
      std::unique(files.begin(), files.end(), [](const ImageFile& a, const ImageFile& b) { return a.name == b.name; }),
      files.end());
  return files;
}

}  // namespace trainer
