#include "tools/cc/main_runner.h"

#include <csignal>

#include "gflags/gflags.h"
#include "glog/logging.h"

namespace coco {

int RunMain(int argc, char** argv, const char* usage, const std::function<absl::Status(int argc, char** argv)>& run) {
  gflags::SetUsageMessage(usage);
  FLAGS_logtostderr = true;
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/true);
  google::InitGoogleLogging(argv[0]);
  // Under a file-size limit (ulimit -f) an oversized write then fails with EFBIG, which the writers report naming the
  // file, instead of SIGXFSZ killing the process without a word.
  std::signal(SIGXFSZ, SIG_IGN);
  const absl::Status status = run(argc, argv);
  if (!status.ok()) {
    LOG(ERROR) << status.message();
    return 1;
  }
  return 0;
}

}  // namespace coco
