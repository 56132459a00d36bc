#include "machine.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace statesink::bench {
namespace {

namespace fs = std::filesystem;

std::string first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("model name")) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line
                                        : line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

double memory_gib() {
  std::ifstream in("/proc/meminfo");
  std::string name;
  double kib = 0;
  while (in >> name) {
    if (name == "MemTotal:") {
      in >> kib;
      break;
    }
    in.ignore(1 << 10, '\n');
  }
  return kib / (1024.0 * 1024.0);
}

// The block device holding `dir`: name, the kernel's rotational flag and the
// driver (virtio_blk, nvme, ...), which tells more than the flag in a VM.
nlohmann::ordered_json disk(const fs::path& dir) {
  nlohmann::ordered_json d;
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return d;
  std::error_code ec;
  fs::path device = fs::canonical(
      "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev)),
      ec);
  if (ec) return d;
  // A partition's queue settings live with its whole disk, one level up.
  if (!fs::exists(device / "queue") && fs::exists(device.parent_path() / "queue")) {
    device = device.parent_path();
  }
  d["device"] = device.filename().string();
  const std::string rotational = first_line(device / "queue" / "rotational");
  if (!rotational.empty()) d["rotational_flag"] = rotational == "1";
  const fs::path driver = fs::canonical(device / "device" / "driver", ec);
  if (!ec) d["driver"] = driver.filename().string();
  const std::string model = first_line(device / "device" / "model");
  if (!model.empty()) d["model"] = model;
  return d;
}

// Write 4 KiB and fdatasync, as a database commit or a spool sync does; the
// median is what one durable commit costs at least on this disk.
nlohmann::ordered_json flush_latency(const fs::path& dir) {
  const fs::path file = dir / "flush-probe";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return nullptr;
  const std::string block(4096, 'x');
  std::vector<double> ms;
  const auto stop = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (int i = 0; i < 200 && std::chrono::steady_clock::now() < stop; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (::pwrite(fd, block.data(), block.size(), 0) != static_cast<ssize_t>(block.size()) ||
        ::fdatasync(fd) != 0) {
      break;
    }
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  ::close(fd);
  std::error_code ignored;
  fs::remove(file, ignored);
  if (ms.empty()) return nullptr;
  std::sort(ms.begin(), ms.end());
  nlohmann::ordered_json r;
  r["samples"] = ms.size();
  r["median_ms"] = ms[ms.size() / 2];
  r["p90_ms"] = ms[ms.size() * 9 / 10];
  return r;
}

}  // namespace

nlohmann::ordered_json describe_machine(const fs::path& dir) {
  nlohmann::ordered_json m;
  m["cpu_model"] = cpu_model();
  m["cpus"] = std::thread::hardware_concurrency();
  m["memory_gib"] = std::round(memory_gib() * 10) / 10;
  utsname u{};
  if (::uname(&u) == 0) m["kernel"] = std::string(u.sysname) + " " + u.release + " " + u.machine;
  m["disk"] = disk(dir);
  m["disk"]["flush_4k"] = flush_latency(dir);
  m["load_average_at_start"] = first_line("/proc/loadavg");
  return m;
}

std::string machine_summary(const nlohmann::ordered_json& m) {
  std::ostringstream out;
  out << m.value("cpu_model", "?") << ", " << m.value("cpus", 0u) << " CPUs, " << std::fixed;
  out.precision(1);
  out << m.value("memory_gib", 0.0) << " GiB RAM";
  const auto& d = m["disk"];
  if (d.contains("device")) {
    out << ", disk " << d.value("device", "?");
    if (d.contains("driver")) out << " (" << d["driver"].get<std::string>() << ")";
    if (d.contains("flush_4k") && d["flush_4k"].is_object()) {
      out.precision(2);
      out << ", 4 KiB write+fdatasync " << d["flush_4k"].value("median_ms", 0.0) << " ms";
    }
  }
  if (m.contains("database")) out << "; " << m["database"].value("version", "?");
  if (m.contains("broker")) out << ", " << m["broker"].get<std::string>();
  return out.str();
}

}  // namespace statesink::bench
