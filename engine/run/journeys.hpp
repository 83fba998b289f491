// Journeys (SPEC §3, docs/events.md): a journey instance is one entry into a journey, advanced
// day by day by the Runner's event path (journeys.cpp, with the `on EVENT` rules).
#pragma once
#include "engine/run/events.hpp"
#include "lang/checker.hpp"
#include "lang/date.hpp"

namespace crm::engine {

// A journey instance: one entry into a journey, keyed by its entry occurrence.
struct JourneyInstance {
  const lang::Journey* journey = nullptr;
  Occurrence entry;
  Days last_day = 0;     // entry day + the last step's day: the instance ends after it
  bool exited = false;
};

}  // namespace crm::engine
