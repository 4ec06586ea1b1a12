#include "sweep/agent.h"

#include <algorithm>
#include <random>
#include <unordered_set>

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

}  // namespace

std::unique_ptr<Agent> make_agent(std::string_view name, const ParamSpace& space,
                                  const AgentOptions& options) {
  if (name == "grid_search") return std::make_unique<GridAgent>(space);
  if (name == "random_search") return std::make_unique<RandomAgent>(space, options);
  if (name == "local_search") return std::make_unique<LocalSearchAgent>(space, options);
  return nullptr;
}

std::vector<std::string> agent_names() {
  return {"grid_search", "random_search", "local_search"};
}

}  // namespace bp
