#include "trainer/distributed/process_group.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <torch/torch.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "trainer/distributed/collectives.h"
#include "trainer/distributed/process_launcher.h"

namespace trainer::distributed {
namespace {

using ::testing::HasSubstr;

constexpr auto kShortConnectTimeout = std::chrono::seconds(2);

DistributedEnvironment OneOfTwoOnLoopback(int rank, int port) {
  DistributedEnvironment environment;
  environment.rank = rank;
  environment.local_rank = rank;
  environment.world_size = 2;
  environment.local_world_size = 2;
  environment.master_addr = "127.0.0.1";
  environment.master_port = port;
  return environment;
}

ProcessGroupOptions ShortTimeouts() {
  ProcessGroupOptions options;
  options.connect_timeout = kShortConnectTimeout;
  options.collective_timeout = kShortConnectTimeout;
  return options;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(ProcessGroupTest, OneProcessRunsCollectivesWithoutNetwork) {
  const absl::StatusOr<c10::intrusive_ptr<c10d::ProcessGroup>> group = CreateProcessGroup(DistributedEnvironment{});
  ASSERT_TRUE(group.ok()) << group.status();
  EXPECT_EQ((*group)->getSize(), 1);
  const absl::StatusOr<at::Tensor> mean = AllReduceMean(**group, torch::tensor({1.5f, -2.0f}));
  ASSERT_TRUE(mean.ok()) << mean.status();
  EXPECT_TRUE(torch::equal(*mean, torch::tensor({1.5f, -2.0f})));
  const absl::StatusOr<std::vector<std::vector<float>>> gathered = AllGather(**group, {1.f, 2.f, 3.f});
  ASSERT_TRUE(gathered.ok()) << gathered.status();
  EXPECT_EQ(*gathered, (std::vector<std::vector<float>>{{1.f, 2.f, 3.f}}));
  const absl::StatusOr<std::vector<std::vector<float>>> nothing = AllGather(**group, {});
  ASSERT_TRUE(nothing.ok()) << nothing.status();
  EXPECT_EQ(*nothing, (std::vector<std::vector<float>>{{}}));
  EXPECT_TRUE(Barrier(**group).ok());
}

TEST(ProcessGroupTest, AllReduceMeanRefusesIntegerTensors) {
  const absl::StatusOr<c10::intrusive_ptr<c10d::ProcessGroup>> group = CreateProcessGroup(DistributedEnvironment{});
  ASSERT_TRUE(group.ok()) << group.status();
  EXPECT_THAT(std::string(AllReduceMean(**group, torch::tensor({1, 2})).status().message()),
              HasSubstr("needs a floating-point tensor"));
}

// While the port is held, a bind to it by anyone else fails (a port bound as port 0 and released at once could be
// taken by another process before its user binds it), yet a TCPStore can serve there (RankZeroFailsWhenItsPeerNever-
// Comes gets past the store, and RunWorkers' scenarios run on such ports).
TEST(ProcessGroupTest, AReservedPortIsKeptFromOtherSockets) {
  const ReservedPort reserved;
  for (const in_addr_t host : {INADDR_LOOPBACK, INADDR_ANY}) {
    const int socket_fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(socket_fd, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(host);
    address.sin_port = htons(static_cast<uint16_t>(reserved.port()));
    const int result = bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    const int error = errno;
    close(socket_fd);
    EXPECT_EQ(result, -1) << "another socket could bind the reserved port " << reserved.port();
    if (result == -1) EXPECT_EQ(error, EADDRINUSE) << std::strerror(error);
  }
}

TEST(ProcessGroupTest, ClientWithNoStoreFailsWithinTheTimeoutNamingTheAddress) {
  const ReservedPort reserved;  // held, never listening: nobody listens there
  const int port = reserved.port();
  const auto start = std::chrono::steady_clock::now();
  const absl::StatusOr<c10::intrusive_ptr<c10d::ProcessGroup>> group =
      CreateProcessGroup(OneOfTwoOnLoopback(/*rank=*/1, port), ShortTimeouts());
  EXPECT_LT(SecondsSince(start), 30.0);
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(group.status().message()),
              HasSubstr("rank 1 could not connect to the rendezvous store at MASTER_ADDR:MASTER_PORT=127.0.0.1:" +
                        std::to_string(port) + " (is the rank-0 process running there? gave up after "));
  EXPECT_THAT(std::string(group.status().message()), HasSubstr("; connect_timeout 2 s)"));
}

TEST(ProcessGroupTest, RankZeroFailsWhenItsPeerNeverComes) {
  const ReservedPort reserved;
  const auto start = std::chrono::steady_clock::now();
  const absl::StatusOr<c10::intrusive_ptr<c10d::ProcessGroup>> group =
      CreateProcessGroup(OneOfTwoOnLoopback(/*rank=*/0, reserved.port()), ShortTimeouts());
  EXPECT_LT(SecondsSince(start), 30.0);
  ASSERT_FALSE(group.ok());
  EXPECT_THAT(std::string(group.status().message()),
              HasSubstr("rank 0 could not join the Gloo process group of WORLD_SIZE=2 processes at 127.0.0.1:"));
}

// Debian's LibTorch has no NCCL: asking for it fails before any rendezvous (rank 0 alone would otherwise wait for
// its peer), and says what would be needed. Checked structurally, not by the clock: MASTER_PORT is a socket listening
// here, which accepts, counts and closes every connection. A rank 0 that tried to serve the store there would fail to
// bind it (kUnavailable, "could not serve"); a rank 1 that tried to reach the store would be counted (and fail at
// once on the closed connection).
TEST(ProcessGroupTest, NcclWithoutANcclBuildIsRefusedBeforeAnyRendezvous) {
#ifdef USE_C10D_NCCL
  GTEST_SKIP() << "this LibTorch has NCCL; the refusal is for builds without it";
#endif
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t length = sizeof(address);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const int port = ntohs(address.sin_port);
  std::atomic<int> connections{0};
  std::thread acceptor([listener, &connections] {
    for (int connection; (connection = accept(listener, nullptr, nullptr)) >= 0; close(connection)) ++connections;
  });
  ProcessGroupOptions options = ShortTimeouts();
  options.backend = Backend::kNccl;
  for (const int rank : {0, 1}) {
    const absl::StatusOr<c10::intrusive_ptr<c10d::ProcessGroup>> group =
        CreateProcessGroup(OneOfTwoOnLoopback(rank, port), options);
    EXPECT_FALSE(group.ok()) << "rank " << rank;
    EXPECT_EQ(group.status().code(), absl::StatusCode::kFailedPrecondition)
        << "rank " << rank << ": " << group.status();
    EXPECT_THAT(std::string(group.status().message()),
                HasSubstr("the NCCL backend (distributed training on CUDA) needs a LibTorch built with CUDA and NCCL"));
    EXPECT_EQ(connections.load(), 0) << "rank " << rank << " connected to MASTER_ADDR:MASTER_PORT";
  }
  shutdown(listener, SHUT_RDWR);  // ends the acceptor's accept()
  acceptor.join();
  close(listener);
}

TEST(ProcessGroupTest, RankZeroReportsAPortInUse) {
  const int socket_fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t length = sizeof(address);
  ASSERT_EQ(bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(socket_fd, 1), 0);
  ASSERT_EQ(getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const int port = ntohs(address.sin_port);
  const absl::StatusOr<c10::intrusive_ptr<c10d::ProcessGroup>> group =
      CreateProcessGroup(OneOfTwoOnLoopback(/*rank=*/0, port), ShortTimeouts());
  close(socket_fd);
  ASSERT_FALSE(group.ok());
  EXPECT_THAT(std::string(group.status().message()),
              HasSubstr("rank 0 could not serve the rendezvous store on port " + std::to_string(port) + " (in use?)"));
}

}  // namespace
}  // namespace trainer::distributed
