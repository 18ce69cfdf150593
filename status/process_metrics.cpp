#include "status/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace sy::metrics {
namespace {

// /proc/self/stat: fields after the command name (which may hold spaces and
// parentheses, so the split starts after the last ')').
bool read_stat(double* cpu_seconds, double* start_ticks) {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  // rest starts at field 3 (state); utime is 14, stime 15, starttime 22.
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
    if (i == 22) *start_ticks = std::stod(field);
  }
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  *cpu_seconds = (utime + stime) / hz;
  return true;
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

double count_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return 0;
  double n = 0;
  while (const dirent* e = ::readdir(dir))
    if (e->d_name[0] != '.') n += 1;
  ::closedir(dir);
  return n - 1;  // the directory's own descriptor
}

}  // namespace

ProcessSample sample_process() {
  ProcessSample s;
  double start_ticks = 0;
  if (read_stat(&s.cpu_seconds, &start_ticks))
    s.start_time_seconds = boot_time_seconds() + start_ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::ifstream statm("/proc/self/statm");
  double pages_virtual = 0, pages_resident = 0;
  if (statm >> pages_virtual >> pages_resident) {
    const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
    s.virtual_bytes = pages_virtual * page;
    s.resident_bytes = pages_resident * page;
  }
  s.open_fds = count_fds();
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) s.max_fds = static_cast<double>(lim.rlim_cur);
  return s;
}

ProcessMetrics::ProcessMetrics(Registry& r) {
  cpu_ = &r.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.").add({});
  resident_ = &r.gauge("process_resident_memory_bytes", "Resident memory size in bytes.").add({});
  virtual_ = &r.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.").add({});
  open_fds_ = &r.gauge("process_open_fds", "Number of open file descriptors.").add({});
  max_fds_ = &r.gauge("process_max_fds", "Maximum number of open file descriptors.").add({});
  start_time_ = &r.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.").add({});
  file_descriptors_ = &r.gauge("file_descriptors", "Open file descriptors (gorouter's name).").add({});
}

void ProcessMetrics::refresh() {
  last_ = sample_process();
  cpu_->sync(last_.cpu_seconds);
  resident_->set(last_.resident_bytes);
  virtual_->set(last_.virtual_bytes);
  open_fds_->set(last_.open_fds);
  max_fds_->set(last_.max_fds);
  start_time_->set(last_.start_time_seconds);
  file_descriptors_->set(last_.open_fds);
}

}  // namespace sy::metrics
