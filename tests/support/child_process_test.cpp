// The child-process helper the tests and the bench share, with real
// programs (/bin/sh, cat, env, pwd, sleep).
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <thread>

#include "support/child_process.hpp"
#include "support/test_support.hpp"

using namespace customeriq::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const fs::path kSh = "/bin/sh";

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("a child's exit code, stdout and stderr, kept in memory", "[child_process]") {
  const auto result = run_process(kSh, {"-c", "echo to-out; echo to-err >&2; exit 3"});
  CHECK(result.exit_code == 3);
  CHECK(result.out == "to-out\n");
  CHECK(result.err == "to-err\n");
}

TEST_CASE("a child's environment: the parent's, with variables set and unset", "[child_process]") {
  REQUIRE(::setenv("CHILD_PROCESS_TEST_DROPPED", "parent", 1) == 0);
  REQUIRE(::setenv("CHILD_PROCESS_TEST_KEPT", "parent", 1) == 0);
  REQUIRE(::setenv("CHILD_PROCESS_TEST_REPLACED", "parent", 1) == 0);
  ProcessOptions options;
  options.env = {{"CHILD_PROCESS_TEST_REPLACED", "child"}, {"CHILD_PROCESS_TEST_ADDED", "a=b"}};
  options.unset_env = {"CHILD_PROCESS_TEST_DROPPED"};
  const auto result = run_process("/usr/bin/env", {}, options);
  ::unsetenv("CHILD_PROCESS_TEST_DROPPED");
  ::unsetenv("CHILD_PROCESS_TEST_KEPT");
  ::unsetenv("CHILD_PROCESS_TEST_REPLACED");
  REQUIRE(result.exit_code == 0);
  CHECK(has_line(result.out, "CHILD_PROCESS_TEST_KEPT=parent"));
  CHECK(has_line(result.out, "CHILD_PROCESS_TEST_REPLACED=child"));
  CHECK(has_line(result.out, "CHILD_PROCESS_TEST_ADDED=a=b"));
  CHECK(result.out.find("CHILD_PROCESS_TEST_REPLACED=parent") == std::string::npos);
  CHECK(result.out.find("CHILD_PROCESS_TEST_DROPPED") == std::string::npos);
}

TEST_CASE("a child runs in the working directory it is given", "[child_process]") {
  TempDir dir;
  ProcessOptions options;
  options.working_directory = dir.path();
  const auto result = run_process("/bin/pwd", {"-P"}, options);
  CHECK(result.exit_code == 0);
  CHECK(result.out == fs::canonical(dir.path()).string() + "\n");

  options.working_directory = dir / "missing";
  ChildProcess missing("/bin/pwd", {}, options);
  const auto& exit = missing.wait();
  CHECK(exit.code == 126);
  CHECK_THAT(exit.describe(), Catch::Contains("cannot change to directory " + (dir / "missing").string()));
}

TEST_CASE("a program that cannot be executed exits 127, and says which", "[child_process]") {
  ChildProcess child("/nonexistent/program", {"x"});
  const auto& exit = child.wait();
  CHECK(exit.code == 127);
  CHECK(exit.describe() == "exit 127 (cannot execute /nonexistent/program: No such file or directory)");
  CHECK(run_process("/nonexistent/program", {}).exit_code == 127);
}

TEST_CASE("a child's stdin: given text (however long), or /dev/null", "[child_process]") {
  ProcessOptions options;
  options.stdin_text = std::string(1 << 20, 'x') + "\nend\n";
  const auto long_text = run_process("/bin/cat", {}, options);
  CHECK(long_text.exit_code == 0);
  CHECK(long_text.out == *options.stdin_text);

  const auto nothing = run_process("/bin/cat", {});
  CHECK(nothing.exit_code == 0);
  CHECK(nothing.out.empty());
}

TEST_CASE("a child's stdin as a pipe the parent writes and closes", "[child_process]") {
  ProcessOptions options;
  options.stdin_pipe = true;
  ChildProcess cat("/bin/cat", {}, options);
  REQUIRE(cat.stdin_fd() >= 0);
  const std::string line = "one line\n";
  REQUIRE(::write(cat.stdin_fd(), line.data(), line.size()) == static_cast<ssize_t>(line.size()));
  CHECK_FALSE(cat.wait_for(200ms).has_value());  // still reading
  cat.close_stdin();
  CHECK(cat.wait_for(10s) == 0);
  CHECK(cat.out() == line);
}

TEST_CASE("a child's stdout and stderr to files, or discarded", "[child_process]") {
  TempDir dir;
  ChildProcess prefixed(kSh, {"-c", "echo out; echo err >&2"}, {}, dir / "run");
  REQUIRE(prefixed.wait_for(10s) == 0);
  CHECK(read_file(dir / "run.out") == "out\n");
  CHECK(read_file(dir / "run.err") == "err\n");
  CHECK(prefixed.err() == "err\n");

  write_file(dir / "old.out", "left from before\n");
  ProcessOptions options;
  options.out = Output::to_file(dir / "old.out");
  options.err = Output::discarded();
  ChildProcess truncated(kSh, {"-c", "echo new; echo err >&2"}, options);
  REQUIRE(truncated.wait_for(10s) == 0);
  CHECK(read_file(dir / "old.out") == "new\n");
  CHECK(truncated.err().empty());

  options.out = Output::to_file(dir / "no-such-folder" / "x.out");
  CHECK_THROWS_WITH(ChildProcess(kSh, {"-c", "true"}, options),
                    Catch::Contains("cannot open " + (dir / "no-such-folder" / "x.out").string()));
}

TEST_CASE("waiting for a child: a timeout leaves it running, a signal's exit code is 128 + it", "[child_process]") {
  ChildProcess sleeper("/bin/sleep", {"30"});
  CHECK_FALSE(sleeper.wait_for(100ms).has_value());
  CHECK(sleeper.running());
  sleeper.signal(SIGTERM);
  CHECK(sleeper.wait_for(10s) == 128 + SIGTERM);
  CHECK_FALSE(sleeper.running());
  CHECK(sleeper.exit()->describe() == "signal Terminated");
}

TEST_CASE("wait_or_kill and stop end a child that does not exit by SIGKILL", "[child_process]") {
  // sh ignores SIGTERM, and so does sleep, which inherits that.
  const std::vector<std::string> stubborn{"-c", "trap '' TERM; while :; do sleep 0.05; done"};
  ChildProcess waited(kSh, stubborn);
  const auto& waited_exit = waited.wait_or_kill(300ms);
  CHECK(waited_exit.code == 128 + SIGKILL);
  CHECK(waited_exit.wall_seconds >= 0.3);

  ChildProcess stopped(kSh, stubborn);
  std::this_thread::sleep_for(100ms);  // its trap is set
  CHECK(stopped.stop(300ms).code == 128 + SIGKILL);

  ChildProcess polite("/bin/sleep", {"30"});
  CHECK(polite.stop(10s).code == 128 + SIGTERM);
}

TEST_CASE("a child still running when its ChildProcess ends is killed and reaped", "[child_process]") {
  pid_t pid = -1;
  {
    ChildProcess sleeper("/bin/sleep", {"30"});
    pid = sleeper.pid();
    REQUIRE(::kill(pid, 0) == 0);
  }
  errno = 0;
  CHECK(::kill(pid, 0) == -1);
  CHECK(errno == ESRCH);  // not a zombie either: reaped
}

TEST_CASE("the constructor returns once the child runs the program", "[child_process]") {
  // What the bench relies on to sample a child's memory by PID.
  ChildProcess sleeper("/bin/sleep", {"30"});
  CHECK(fs::read_symlink("/proc/" + std::to_string(sleeper.pid()) + "/exe") == fs::canonical("/bin/sleep"));
}

TEST_CASE("a child's CPU time comes with its exit", "[child_process]") {
  ChildProcess busy(kSh, {"-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done"});
  const auto& exit = busy.wait();
  CHECK(exit.ok());
  CHECK(exit.cpu_seconds() > 0);
  CHECK(exit.wall_seconds > 0);
}

TEST_CASE("a child gets an empty signal mask whatever the parent blocks", "[child_process]") {
  sigset_t term, previous;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  REQUIRE(::pthread_sigmask(SIG_BLOCK, &term, &previous) == 0);
  ChildProcess sleeper("/bin/sleep", {"30"});
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  sleeper.signal(SIGTERM);
  CHECK(sleeper.wait_for(10s) == 128 + SIGTERM);
}

TEST_CASE("a child in its own process group, and one that dies with the thread that started it",
          "[child_process]") {
  ChildProcess same_group("/bin/sleep", {"30"});
  CHECK(::getpgid(same_group.pid()) == ::getpgrp());
  ProcessOptions options;
  options.own_process_group = true;
  ChildProcess own_group("/bin/sleep", {"30"}, options);
  CHECK(::getpgid(own_group.pid()) == own_group.pid());

  auto started_by_a_thread = [](bool dies_with_parent) {
    std::unique_ptr<ChildProcess> child;
    std::thread([&] {
      ProcessOptions thread_options;
      thread_options.dies_with_parent = dies_with_parent;
      child = std::make_unique<ChildProcess>("/bin/sleep", std::vector<std::string>{"30"}, thread_options);
    }).join();
    return child;
  };
  auto orphan = started_by_a_thread(true);
  CHECK(orphan->wait_for(10s) == 128 + SIGKILL);
  auto survivor = started_by_a_thread(false);
  CHECK_FALSE(survivor->wait_for(300ms).has_value());
}
