#include "status/metrics.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>

namespace sy::metrics {
namespace {

bool is_name(std::string_view s, bool allow_colon) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void check_metric_name(const std::string& name) {
  if (!is_name(name, true)) throw std::invalid_argument("metrics: invalid metric name '" + name + "'");
}

void check_label_name(const std::string& name, bool histogram) {
  if (!is_name(name, false)) throw std::invalid_argument("metrics: invalid label name '" + name + "'");
  if (name.size() >= 2 && name[0] == '_' && name[1] == '_') {
    throw std::invalid_argument("metrics: label name '" + name + "' is reserved (starts with __)");
  }
  if (histogram && name == "le") throw std::invalid_argument("metrics: label 'le' is reserved for histogram buckets");
}

// Sorted strictly increasing, no NaN; a trailing +Inf is dropped (it is implied).
std::vector<double> normalize_bounds(std::vector<double> bounds) {
  if (!bounds.empty() && bounds.back() == INFINITY) bounds.pop_back();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (std::isnan(bounds[i])) throw std::invalid_argument("metrics: histogram bound is NaN");
    if (bounds[i] == INFINITY) throw std::invalid_argument("metrics: +Inf histogram bound must be last");
    if (i > 0 && !(bounds[i - 1] < bounds[i])) {
      throw std::invalid_argument("metrics: histogram bounds must be strictly increasing");
    }
  }
  return bounds;
}

// Integers (exactly representable) without exponent, otherwise the shortest
// round-trip form; Go's strconv.ParseFloat (used by Prometheus) reads both.
void append_value(std::string* out, double v) {
  if (std::isnan(v)) {
    *out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    *out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  std::to_chars_result r;
  if (v == std::trunc(v) && std::fabs(v) <= 9007199254740992.0) {  // 2^53
    r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
  } else {
    r = std::to_chars(buf, buf + sizeof buf, v);
  }
  out->append(buf, r.ptr);
}

void append_value(std::string* out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

// HELP text escapes \ and newline; label values additionally escape ".
void append_escaped(std::string* out, std::string_view s, bool quote) {
  for (char c : s) {
    switch (c) {
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '"':
        if (quote) {
          *out += "\\\"";
          break;
        }
        [[fallthrough]];
      default: *out += c;
    }
  }
}

// `{k="v",...,le="x"}`, or nothing at all when there are no labels.
void append_labels(std::string* out, const Labels& labels, const double* le = nullptr) {
  if (labels.empty() && le == nullptr) return;
  *out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) *out += ',';
    first = false;
    *out += k;
    *out += "=\"";
    append_escaped(out, v, true);
    *out += '"';
  }
  if (le != nullptr) {
    if (!first) *out += ',';
    *out += "le=\"";
    append_value(out, *le);
    *out += '"';
  }
  *out += '}';
}

void append_header(std::string* out, const std::string& name, const std::string& help, const char* type) {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  append_escaped(out, help, false);
  *out += "\n# TYPE ";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

template <typename V>
void append_sample(std::string* out, const std::string& name, const char* suffix, const Labels& labels,
                   const double* le, V value) {
  *out += name;
  *out += suffix;
  append_labels(out, labels, le);
  *out += ' ';
  append_value(out, value);
  *out += '\n';
}

// Series names a family exposes; the first is the family name itself.
std::vector<std::string> series_names(Type type, const std::string& name) {
  if (type != Type::histogram) return {name};
  return {name, name + "_bucket", name + "_sum", name + "_count"};
}

}  // namespace

// ---- children ---------------------------------------------------------------

void Counter::inc(double v) {
  if (!(v >= 0.0)) return;  // counters never go down; also drops NaN
  value_.fetch_add(v, std::memory_order_relaxed);
}

void Counter::sync(double total) {
  if (total > value_.load(std::memory_order_relaxed)) value_.store(total, std::memory_order_relaxed);
}

void Gauge::inc(double v) { value_.fetch_add(v, std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(normalize_bounds(std::move(upper_bounds))),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::observe(double v) {
  std::size_t i = 0;
  while (i < bounds_.size() && !(v <= bounds_[i])) ++i;  // NaN lands in +Inf
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

void Histogram::sync(const uint64_t* counts, double sum) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(counts[i], std::memory_order_relaxed);
  sum_.store(sum, std::memory_order_relaxed);
}

void Histogram::collect(std::vector<uint64_t>* cumulative, double* sum, uint64_t* count) const {
  cumulative->resize(bounds_.size() + 1);
  uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    (*cumulative)[i] = total;
  }
  *sum = sum_.load(std::memory_order_relaxed);
  *count = total;  // always equals the +Inf bucket, even mid-update
}

// ---- families ---------------------------------------------------------------

template <typename T>
T& Family<T>::add(const Labels& labels) {
  constexpr bool is_histogram = std::is_same_v<T, Histogram>;
  std::lock_guard lock(mutex_);
  if (auto it = children_.find(labels); it != children_.end()) return *it->second;
  for (const auto& kv : labels) check_label_name(kv.first, is_histogram);
  if (children_.size() >= kMaxChildren) {  // a label fed from outside must not grow /metrics without bound
    Labels overflow = labels;
    for (auto& kv : overflow) kv.second = "_overflow";
    if (auto it = children_.find(overflow); it != children_.end()) return *it->second;
    return add_child(overflow);
  }
  return add_child(labels);
}

template <typename T>
T& Family<T>::add_child(const Labels& labels) {
  constexpr bool is_histogram = std::is_same_v<T, Histogram>;
  std::unique_ptr<T> child;
  if constexpr (is_histogram) {
    child = std::make_unique<Histogram>(bounds_);
  } else {
    child = std::make_unique<T>();
  }
  return *children_.emplace(labels, std::move(child)).first->second;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---- registry ---------------------------------------------------------------

template <typename T>
Family<T>& Registry::add_family(std::deque<std::unique_ptr<Family<T>>>* list, Type type, std::string name,
                                const std::string& help, std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  const auto names = series_names(type, name);
  if (auto it = names_.find(name); it != names_.end()) {
    if (it->second.type != type || !it->second.primary) {
      throw std::invalid_argument("metrics: '" + name + "' already registered with another type");
    }
    auto* family = static_cast<Family<T>*>(it->second.family);
    if (family->bounds_ != bounds) {
      throw std::invalid_argument("metrics: histogram '" + name + "' already registered with other buckets");
    }
    return *family;
  }
  for (const auto& n : names) {
    if (names_.count(n) != 0) throw std::invalid_argument("metrics: '" + n + "' clashes with a registered metric");
  }
  list->push_back(std::unique_ptr<Family<T>>(new Family<T>(name, help, std::move(bounds))));
  Family<T>* family = list->back().get();
  for (std::size_t i = 0; i < names.size(); ++i) names_[names[i]] = Name{type, family, i == 0};
  order_.emplace_back(type, family);
  return *family;
}

Family<Counter>& Registry::counter(const std::string& name, const std::string& help) {
  check_metric_name(name);
  std::string full = name;
  if (!full.ends_with("_total")) full += "_total";
  return add_family(&counters_, Type::counter, std::move(full), help, {});
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help) {
  check_metric_name(name);
  return add_family(&gauges_, Type::gauge, name, help, {});
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<double> bounds) {
  check_metric_name(name);
  return add_family(&histograms_, Type::histogram, name, help, normalize_bounds(std::move(bounds)));
}

std::string Registry::serialize() const {
  std::string out;
  std::vector<uint64_t> cumulative;
  std::lock_guard lock(mutex_);
  for (const auto& [type, ptr] : order_) {
    switch (type) {
      case Type::counter: {
        const auto& f = *static_cast<const Family<Counter>*>(ptr);
        append_header(&out, f.name_, f.help_, "counter");
        std::lock_guard family_lock(f.mutex_);
        for (const auto& [labels, c] : f.children_) append_sample(&out, f.name_, "", labels, nullptr, c->value());
        break;
      }
      case Type::gauge: {
        const auto& f = *static_cast<const Family<Gauge>*>(ptr);
        append_header(&out, f.name_, f.help_, "gauge");
        std::lock_guard family_lock(f.mutex_);
        for (const auto& [labels, g] : f.children_) append_sample(&out, f.name_, "", labels, nullptr, g->value());
        break;
      }
      case Type::histogram: {
        const auto& f = *static_cast<const Family<Histogram>*>(ptr);
        append_header(&out, f.name_, f.help_, "histogram");
        std::lock_guard family_lock(f.mutex_);
        for (const auto& [labels, h] : f.children_) {
          double sum = 0;
          uint64_t count = 0;
          h->collect(&cumulative, &sum, &count);
          const auto& bounds = h->bounds();
          for (std::size_t i = 0; i <= bounds.size(); ++i) {
            const double le = i < bounds.size() ? bounds[i] : INFINITY;
            append_sample(&out, f.name_, "_bucket", labels, &le, cumulative[i]);
          }
          append_sample(&out, f.name_, "_sum", labels, nullptr, sum);
          append_sample(&out, f.name_, "_count", labels, nullptr, count);
        }
        break;
      }
    }
  }
  return out;
}

}  // namespace sy::metrics
