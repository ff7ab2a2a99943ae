// LeakSanitizer suppressions for --config=asan and --config=fuzz builds, compiled into every test and fuzz binary
// (through @gtest, @gtest_main and //tools/fuzz's mains) so no LSAN_OPTIONS file path is needed. Only leaks inside
// Debian's prebuilt libraries belong here, each with the finding that put it here; a leak in this repository's code
// is a bug to fix. In builds without LeakSanitizer nothing calls this function.
extern "C" const char* __lsan_default_suppressions() {
  return
      // LibTorch 1.13's zip reader (caffe2::serialize::PyTorchStreamReader, miniz) leaks about 400 bytes per archive
      // it rejects part-way (found by state_dict_fuzzer: an archive whose data.pkl local header is corrupt;
      // mobilenet/testdata/fuzz/state_dict_regressions/zip_reader_leak_corrupt_local_header.pt). The allocation is
      // made and lost inside libtorch_cpu; ReadStateDict only gets the exception.
      "leak:libtorch_cpu.so\n";
}
