#pragma once
// A small in-tree Prometheus registry (prometheus-cpp is not packaged for
// Debian 12). The API mirrors prometheus-cpp's Family/Counter/Gauge/Histogram
// so it can be swapped later.
//
// Threading: families and children are created at start-up or from the
// control thread (Family::add takes a mutex); Counter/Gauge/Histogram updates
// are lock-free relaxed atomics and may be called from any thread. serialize()
// may run concurrently with updates (values are read atomically one by one).
//
// Output is text format 0.0.4 that `promtool check metrics` accepts: every
// family has # HELP and # TYPE. promtool insists that counters end in
// `_total`, so Registry::counter() appends `_total` to a name that lacks it
// (gorouter's `registry_message` is exposed as `registry_message_total`).
// Label values are escaped (\\, \", \n); names are checked at registration
// (std::invalid_argument on a bad name — a programming error, start-up only).
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sy::metrics {

using Labels = std::map<std::string, std::string>;

class Counter {
 public:
  void inc(double v = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }
  // For a counter kept elsewhere (per worker) and summed at scrape time:
  // takes that sum. It never goes down (a smaller total is ignored).
  void sync(double total);

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double v = 1.0);
  void dec(double v = 1.0) { inc(-v); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);  // sorted, +Inf implied
  void observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Snapshot for serialisation: cumulative counts per bound (+Inf last), sum, count.
  void collect(std::vector<uint64_t>* cumulative, double* sum, uint64_t* count) const;
  // For a histogram kept elsewhere (per worker) and summed at scrape time:
  // takes `counts` (per bucket, not cumulative, bounds().size() + 1 of them)
  // and `sum` as its whole state. One caller at a time.
  void sync(const uint64_t* counts, double sum);

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

enum class Type { counter, gauge, histogram };

template <typename T>
class Family {
 public:
  // Children per family: past it, add() returns one shared child whose label
  // values are all "_overflow" (callers bound their own labels; this is the
  // backstop so no input can grow /metrics without limit).
  static constexpr size_t kMaxChildren = 1000;

  // Returns the child for `labels`, creating it on first use. Stable address.
  // Throws std::invalid_argument on a bad label name (and `le` on histograms).
  T& add(const Labels& labels);
  // Exposed name (counters carry the `_total` suffix).
  const std::string& name() const { return name_; }

 private:
  friend class Registry;
  T& add_child(const Labels& labels);  // mutex_ held
  Family(std::string name, std::string help, std::vector<double> bounds)
      : name_(std::move(name)), help_(std::move(help)), bounds_(std::move(bounds)) {}
  std::string name_, help_;
  std::vector<double> bounds_;  // histograms only
  mutable std::mutex mutex_;
  std::map<Labels, std::unique_ptr<T>> children_;  // serialised in label order
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

class Registry {
 public:
  Family<Counter>& counter(const std::string& name, const std::string& help);
  Family<Gauge>& gauge(const std::string& name, const std::string& help);
  Family<Histogram>& histogram(const std::string& name, const std::string& help, std::vector<double> bounds);

  // Prometheus text format 0.0.4, families in registration order.
  std::string serialize() const;

 private:
  struct Name {
    Type type;
    void* family;
    bool primary;  // the family name itself, not a derived series name (h_sum)
  };
  template <typename T>
  Family<T>& add_family(std::deque<std::unique_ptr<Family<T>>>* list, Type type, std::string name,
                        const std::string& help, std::vector<double> bounds);

  mutable std::mutex mutex_;
  std::map<std::string, Name> names_;  // every series name exposed, for conflicts
  std::deque<std::unique_ptr<Family<Counter>>> counters_;
  std::deque<std::unique_ptr<Family<Gauge>>> gauges_;
  std::deque<std::unique_ptr<Family<Histogram>>> histograms_;
  std::vector<std::pair<Type, const void*>> order_;
};

}  // namespace sy::metrics
