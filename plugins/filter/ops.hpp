// The `filter` plugin family: small, general record filters every pipeline needs.
//   filter.require  fields present, non-empty, of a type
//   filter.length   bounds on the length of a field (chars, bytes or words)
//   filter.sample   a deterministic fraction, by seeded hash of the id (or of a field); formerly `sample`
#pragma once

#include <tamis/sdk.hpp>

#include <string>
#include <vector>

namespace tamis::filter {

class Require {
 public:
  static constexpr const char* name = "filter.require";
  static constexpr const char* summary = "Rejects records missing a field, with an empty field, or with a field of the wrong type.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  explicit Require(const Params& p);
  void process(Record& r) const;

 private:
  std::vector<std::string> fields_;
  bool non_empty_;
  std::string type_;
};

class Length {
 public:
  static constexpr const char* name = "filter.length";
  static constexpr const char* summary = "Keeps records whose field length (characters, bytes or words) is within [min, max].";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  explicit Length(const Params& p);
  static void check(const Params& p);
  void process(Record& r) const;

  enum class Unit { chars, bytes, words };
  static uint64_t measure(std::string_view text, Unit unit);

 private:
  std::string field_;
  Unit unit_;
  int64_t min_;
  int64_t max_;  // -1: no bound
  bool annotate_;
};

class Sample {
 public:
  static constexpr const char* name = "filter.sample";
  static constexpr const char* former_names[] = {"sample"};
  static constexpr const char* summary = "Keeps a deterministic fraction of records, chosen by a seeded hash of the record id (or of a field).";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  explicit Sample(const Params& p);
  static void check(const Params& p);
  void process(Record& r) const;

 private:
  double fraction_;
  uint64_t seed_;
  std::string key_;
  uint64_t threshold_;
};

}  // namespace tamis::filter
