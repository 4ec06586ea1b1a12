#include "sweep/agent.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "core/calibration.h"

namespace bp {

namespace {

// Uniform integer in [0, n) by rejection, identical on every platform (unlike
// std::uniform_int_distribution), so seeded runs are reproducible.
uint64_t uniform(std::mt19937_64& rng, uint64_t n) {
  if (n <= 1) return 0;
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = rng();
  while (x >= limit);
  return x % n;
}

// Points proposed so far, and uniform picks among the others.
class Unseen {
 public:
  Unseen(uint64_t size, std::mt19937_64& rng) : size_(size), rng_(rng) {}
  bool seen(uint64_t p) const { return seen_.count(p) > 0; }
  void mark(uint64_t p) { seen_.insert(p); }
  bool exhausted() const { return seen_.size() >= size_; }
  // A uniformly chosen point not proposed yet, marked as proposed; 0 when none is left.
  uint64_t pick() {
    if (exhausted()) return 0;
    if (size_ > 4 * seen_.size()) {
      for (;;) {
        uint64_t p = 1 + uniform(rng_, size_);
        if (seen_.insert(p).second) return p;
      }
    }
    // Mostly seen (so the space is small): choose among the rest directly.
    std::vector<uint64_t> rest;
    for (uint64_t p = 1; p <= size_; ++p)
      if (!seen_.count(p)) rest.push_back(p);
    uint64_t p = rest[uniform(rng_, rest.size())];
    seen_.insert(p);
    return p;
  }

 private:
  uint64_t size_;
  std::mt19937_64& rng_;
  std::unordered_set<uint64_t> seen_;
};

class GridAgent : public Agent {
 public:
  explicit GridAgent(const ParamSpace& space) : size_(space.size()) {}
  uint64_t propose() override { return next_ <= size_ ? next_++ : 0; }
  void update(const Feedback&) override {}

 private:
  uint64_t size_;
  uint64_t next_ = 1;
};

class RandomAgent : public Agent {
 public:
  RandomAgent(const ParamSpace& space, const AgentOptions& o)
      : rng_(o.seed), unseen_(space.size(), rng_) {}
  uint64_t propose() override { return unseen_.pick(); }
  void update(const Feedback&) override {}

 private:
  std::mt19937_64 rng_;
  Unseen unseen_;
};

class LocalSearchAgent : public Agent {
 public:
  LocalSearchAgent(const ParamSpace& space, const AgentOptions& o)
      : space_(space),
        rng_(o.seed),
        unseen_(space.size(), rng_),
        initial_(std::clamp<uint64_t>(o.budget / 4, 2, 8)) {
    for (size_t a = 0; a < space.axes().size(); ++a)
      if (space.axes()[a].values.size() > 1) movable_.push_back(a);
  }

  uint64_t propose() override {
    if (unseen_.exhausted()) return 0;
    if (random_proposals_ < initial_ || ok_.empty() || movable_.empty()) {
      ++random_proposals_;
      return unseen_.pick();
    }
    // Parent: mostly the best point, sometimes one of the next best, to avoid tunnel vision.
    std::sort(ok_.begin(), ok_.end(), [](auto& a, auto& b) { return a.first > b.first; });
    size_t rank = uniform(rng_, 10) < 7 ? 0 : uniform(rng_, std::min<size_t>(ok_.size(), 4));
    std::vector<uint32_t> parent;
    space_.decode(ok_[rank].second, parent);
    for (int attempt = 0; attempt < 64; ++attempt) {
      std::vector<uint32_t> child = parent;
      mutate(child);
      if (uniform(rng_, 3) == 0) mutate(child);
      uint64_t p = space_.encode(child);
      if (!unseen_.seen(p)) {
        unseen_.mark(p);
        return p;
      }
    }
    return unseen_.pick();  // neighbourhood used up: restart somewhere new
  }

  void update(const Feedback& f) override {
    if (f.kind == Feedback::Kind::kOk) ok_.emplace_back(f.reward, f.point);
  }

 private:
  // Moves one axis to an adjacent value (3 times in 4) or to a random other value.
  void mutate(std::vector<uint32_t>& idx) {
    size_t a = movable_[uniform(rng_, movable_.size())];
    uint32_t n = static_cast<uint32_t>(space_.axes()[a].values.size());
    uint32_t cur = idx[a];
    if (uniform(rng_, 4) < 3) {
      bool up = uniform(rng_, 2) == 1;
      if (up && cur + 1 >= n) up = false;
      if (!up && cur == 0) up = true;
      idx[a] = up ? cur + 1 : cur - 1;
    } else {
      uint32_t other = static_cast<uint32_t>(uniform(rng_, n - 1));
      idx[a] = other >= cur ? other + 1 : other;
    }
  }

  const ParamSpace& space_;
  std::mt19937_64 rng_;
  Unseen unseen_;
  uint64_t initial_;
  uint64_t random_proposals_ = 0;
  std::vector<size_t> movable_;
  std::vector<std::pair<double, uint64_t>> ok_;
};

// Runs points in order of predicted step time. Each measured point's ratio (measured/predicted)
// is one Observation; a remaining point is ranked by its raw prediction times the calibration
// fitted on the finished points nearest it (fewest swept parameters different), so a result that
// contradicts the model moves its neighbours and leaves distant points alone. Deterministic:
// the same results in the same order give the same proposals (resume replays them).
class ModelGuidedAgent : public Agent {
 public:
  ModelGuidedAgent(const ParamSpace& space, const AgentOptions& o)
      : space_(space), system_(o.system) {
    for (size_t a = 0; a < space.axes().size(); ++a)
      if (space.axes()[a].values.size() > 1) swept_.push_back(a);
    std::vector<uint32_t> idx;
    for (uint64_t p = 1; p <= space.size(); ++p) {
      PointPrediction pred = o.predict(p);
      if (pred.out_of_memory) continue;
      if (!pred.step_time_s || !std::isfinite(*pred.step_time_s) || *pred.step_time_s <= 0) {
        unpredicted_.push_back(p);
        continue;
      }
      ranked_.push_back({p, *pred.step_time_s, *pred.step_time_s, coords_.size()});
      space.decode(p, idx);
      for (size_t a : swept_) coords_.push_back(idx[a]);
    }
    rank();
  }

  uint64_t propose() override {
    if (stale_) rank();
    if (next_ < ranked_.size()) {
      const Ranked& r = ranked_[next_++];
      proposed_raw_[r.point] = r.raw_s;
      return r.point;
    }
    if (next_unpredicted_ < unpredicted_.size()) return unpredicted_[next_unpredicted_++];
    return 0;
  }

  void update(const Feedback& f) override {
    if (f.kind != Feedback::Kind::kOk || !f.step_time_s) return;
    auto raw = proposed_raw_.find(f.point);
    if (raw == proposed_raw_.end() || !observed_.insert(f.point).second) return;
    Observation o;
    o.system = system_;
    o.predicted_step_time_s = raw->second;
    o.measured_step_time_s = *f.step_time_s;
    if (!Calibration::fit({o}).size()) return;  // not a usable time
    std::vector<uint32_t> idx;
    space_.decode(f.point, idx);
    for (size_t a : swept_) finished_coords_.push_back(idx[a]);
    finished_.push_back(o);
    stale_ = true;
  }

 private:
  struct Ranked {
    uint64_t point;
    double raw_s;         // the model's prediction
    double calibrated_s;  // corrected by the nearest finished points
    size_t coords;        // index of its swept-axis values in coords_
  };

  // Drops what was proposed and sorts the rest by calibrated prediction (ties: point number).
  void rank() {
    std::vector<Ranked> rest;
    for (size_t i = next_; i < ranked_.size(); ++i) rest.push_back(ranked_[i]);
    std::map<std::vector<uint32_t>, double> factor_of_nearest;
    for (Ranked& r : rest) r.calibrated_s = r.raw_s * factor(r.coords, factor_of_nearest);
    std::sort(rest.begin(), rest.end(), [](const Ranked& a, const Ranked& b) {
      return a.calibrated_s != b.calibrated_s ? a.calibrated_s < b.calibrated_s : a.point < b.point;
    });
    ranked_ = std::move(rest);
    next_ = 0;
    stale_ = false;
  }

  // The calibration factor for the point whose swept values start at coords_[at]: fitted on the
  // finished points at the smallest distance from it (memoised per such set).
  double factor(size_t at, std::map<std::vector<uint32_t>, double>& memo) const {
    if (finished_.empty()) return 1.0;
    const size_t n = swept_.size();
    std::vector<uint32_t> nearest;
    size_t best = SIZE_MAX;
    for (size_t k = 0; k < finished_.size(); ++k) {
      size_t d = 0;
      for (size_t a = 0; a < n; ++a) d += coords_[at + a] != finished_coords_[k * n + a];
      if (d < best) {
        nearest.clear();
        best = d;
      }
      if (d == best) nearest.push_back(static_cast<uint32_t>(k));
    }
    auto [it, fresh] = memo.try_emplace(nearest, 1.0);
    if (fresh) {
      std::vector<Observation> near;
      for (uint32_t k : nearest) near.push_back(finished_[k]);
      it->second = Calibration::fit(near).step_time_factor(system_, "", "");
    }
    return it->second;
  }

  const ParamSpace& space_;
  std::string system_;
  std::vector<size_t> swept_;  // axes with more than one value
  std::vector<Ranked> ranked_;
  std::vector<uint32_t> coords_;  // swept-axis value indices of every predicted point
  size_t next_ = 0;
  bool stale_ = false;
  std::vector<uint64_t> unpredicted_;
  size_t next_unpredicted_ = 0;
  std::unordered_map<uint64_t, double> proposed_raw_;  // point -> raw prediction
  std::unordered_set<uint64_t> observed_;
  std::vector<Observation> finished_;
  std::vector<uint32_t> finished_coords_;
};

}  // namespace

std::unique_ptr<Agent> make_agent(std::string_view name, const ParamSpace& space,
                                  const AgentOptions& options) {
  if (name == "grid_search") return std::make_unique<GridAgent>(space);
  if (name == "random_search") return std::make_unique<RandomAgent>(space, options);
  if (name == "local_search") return std::make_unique<LocalSearchAgent>(space, options);
  if (name == "model_guided" && options.predict)
    return std::make_unique<ModelGuidedAgent>(space, options);
  return nullptr;
}

std::vector<std::string> agent_names() {
  return {"grid_search", "random_search", "local_search", "model_guided"};
}

std::string agent_description(std::string_view name) {
  if (name == "grid_search") return "every point in order (CloudAI's agent)";
  if (name == "random_search")
    return "uniform samples without repetition (agent_config.random_seed)";
  if (name == "local_search") return "a few random points, then neighbours of the best so far";
  if (name == "model_guided")
    return "points in order of predicted step time, predicted out-of-memory points skipped, "
           "re-ranked after each result by the calibration";
  return {};
}

}  // namespace bp
