#pragma once

// What the benchmark reads about processes it did not start: CPU time and
// peak memory of the servers and the ingester, found through /proc.

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace statesink::bench {

// User + system CPU seconds of a running process, all threads; nullopt when it is gone.
std::optional<double> cpu_seconds(pid_t pid);
// Read- and write-type system calls so far (/proc/PID/io syscr + syscw: read,
// recv, write, send and their kin; not poll, futex or fdatasync); nullopt
// when the process is gone.
std::optional<std::uint64_t> io_syscalls(pid_t pid);
// VmHWM, the peak resident memory, in bytes; nullopt when the process is gone.
std::optional<std::uint64_t> peak_rss_bytes(pid_t pid);
// The process listening on 127.0.0.1:port (or any address) over TCP, found
// through /proc; nullopt when no process visible to us holds that socket.
std::optional<pid_t> listening_pid(std::uint16_t port);

}  // namespace statesink::bench
