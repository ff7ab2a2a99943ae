"""fuzz_target: one libFuzzer target per parser of outside input (tools/fuzz/README.md)."""

def fuzz_target(name, srcs, deps, corpus, dict = None, regressions = [], **kwargs):
    """Declares a fuzz target and the test that replays its inputs.

    Args:
      name: the fuzzer binary (`<package>:<name>`); libFuzzer's main under --config=fuzz, the replayer otherwise.
      srcs: the .cc defining LLVMFuzzerTestOneInput.
      deps: the parser's libraries (the body also gets tools/fuzz/fuzz_check.h).
      corpus: seed inputs (valid files the tests make, committed under testdata/fuzz/<name>/).
      dict: optional libFuzzer dictionary (format tokens).
      regressions: inputs that once crashed the parser; replayed forever.
      **kwargs: passed to the replay test (size, tags...).
    """
    native.cc_library(
        name = name + "_body",
        testonly = 1,
        srcs = srcs,
        deps = deps + ["//tools/fuzz:fuzz_check"],
        alwayslink = 1,
    )
    native.cc_binary(
        name = name,
        testonly = 1,
        deps = [":" + name + "_body", "//tools/fuzz:fuzz_main"],
        data = corpus + ([dict] if dict else []),
        tags = ["fuzz_target"],
    )
    native.filegroup(
        name = name + "_inputs",
        testonly = 1,
        srcs = corpus + regressions,
    )
    native.cc_test(
        name = name + "_replay_test",
        deps = [":" + name + "_body", "//tools/fuzz:replay_main"],
        args = ["$(locations :%s_inputs)" % name],
        data = [":" + name + "_inputs"],
        **kwargs
    )
