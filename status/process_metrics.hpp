#pragma once
// The process metrics Prometheus client libraries export
// (process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds,
// process_start_time_seconds) and gorouter's `file_descriptors`, read from
// /proc/self when /metrics is scraped.
//
// Threading: refresh() on one thread (the control thread).
#include "status/metrics.hpp"

namespace sy::metrics {

struct ProcessSample {
  double cpu_seconds = 0;       // user + system
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double open_fds = 0;
  double max_fds = 0;
  double start_time_seconds = 0;  // since the epoch
};

// Reads /proc/self (stat, statm, fd) and the fd limit; fields it cannot
// read stay 0.
ProcessSample sample_process();

class ProcessMetrics {
 public:
  explicit ProcessMetrics(Registry& registry);
  void refresh();
  const ProcessSample& last() const { return last_; }

 private:
  Counter* cpu_;
  Gauge *resident_, *virtual_, *open_fds_, *max_fds_, *start_time_, *file_descriptors_;
  ProcessSample last_;
};

}  // namespace sy::metrics
