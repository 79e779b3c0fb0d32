// Audit ingest benchmark: how many audit events per second one thread takes from bytes to
// the ledger (codec's decoder -> policy::tokenUseOf -> evidence::Ledger::record), and how
// much memory the ledger holds per tracked account. Not a test: it prints figures.
//
//   audit_ingest_bench [--events N] [--runs K] [--memory-factor F] [--no-memory]
//   audit_ingest_bench --read FILE [...]   benchmark the JSON lines in FILE
//   audit_ingest_bench --write FILE        write the generated events as JSON lines, exit
//   audit_ingest_bench --print-event       one generated event, to see what is measured
//
// The events: events.h's generator, default 200,000 (about 1.3 KB each, Metadata level,
// 80% from 2,000 service accounts with bound pod tokens, 20% from other users; mixed
// verbs, resources, stages and codes as a busy cluster logs them).
//
// Two shapes of the same events, each decoded by one decoder on this thread:
//   batch  EventLists of 400 events, what the webhook backend POSTs (its default
//          --audit-webhook-batch-max-size), each a std::string with room for the padding.
//   lines  one event per line, what the log backend writes, fed to a LineFramer in 64 KiB
//          chunks as the log follower reads the file.
// For each shape, best of K runs (wall time; this thread's CPU time beside it) of
//   decode     the decoder alone (the callback reads the user name)
//   classify   + policy::classify
//   tokenUse   + policy::tokenUseOf (the copies a kept event costs)
//   fold       + policy::recordUse into a plain map (the record without the ledger)
//   record     + evidence::Ledger::record (the whole path; takeChanged every 20,000 events,
//              as the store would)
// in events/s, MB/s of JSON and ns per event: the differences say where the time goes.
//
// Memory: a fresh ledger fed N, then F x N events (default 10 x N) of the same accounts
// (later times, pods replaced now and then), decoded from batches; the heap in use
// (mallinfo2) and the resident set (statm) after malloc_trim, per tracked account. The
// records are bounded, so the figure must not grow with the events.
//
// Prints a table and one JSON line (prefixed "json: "). Exit status 1 when the decoded
// events or uses do not match what was generated (a benchmark of a broken path is
// worthless), 2 on bad arguments.
#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "audit_ingest/events.h"
#include "codec/decoder.h"
#include "codec/line_framer.h"
#include "evidence/ledger.h"
#include "objects/ref.h"
#include "policy/token_use.h"

namespace {

using namespace saguard;
using namespace saguard::bench;  // the generator (events.h)
using objects::AuditEventView;

constexpr std::size_t kBatchEvents = 400;
constexpr std::size_t kChunkBytes = 64 * 1024;
constexpr std::size_t kTakeChangedEvery = 20000;
constexpr double kTargetEventsPerSecond = 500000;

// --- inputs ----------------------------------------------------------------------------

struct Input {
  std::string lines;                 // one event per line, "\n"-terminated (the log file)
  std::vector<std::string> batches;  // EventLists of kBatchEvents (webhook bodies)
  std::size_t events = 0;
  std::size_t batchBytes = 0;
};

void batchesFromLines(Input& input) {
  std::string batch;
  std::size_t inBatch = 0;
  std::size_t pos = 0;
  auto flush = [&] {
    batch += "]}";
    input.batchBytes += batch.size();
    batch.reserve(batch.size() + codec::kPadding);  // room to pad in place
    input.batches.push_back(std::move(batch));
    batch.clear();
    inBatch = 0;
  };
  while (pos < input.lines.size()) {
    std::size_t nl = input.lines.find('\n', pos);
    if (nl == std::string::npos) nl = input.lines.size();
    if (nl > pos) {
      if (inBatch == 0) openList(batch);
      if (inBatch > 0) batch += ',';
      batch.append(input.lines, pos, nl - pos);
      ++input.events;
      if (++inBatch == kBatchEvents) flush();
    }
    pos = nl + 1;
  }
  if (inBatch > 0) flush();
}

// --- measuring -------------------------------------------------------------------------

double threadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

enum class Depth { Decode, Classify, TokenUse, Fold, Record };
constexpr int kDepths = 5;
const char* const kDepthNames[kDepths] = {"decode", "classify", "tokenUse", "fold", "record"};

struct Counts {
  std::size_t events = 0;
  std::size_t uses = 0;
  std::size_t recorded = 0;
  std::size_t touched = 0;  // keeps the optimizer from dropping the work
};

// What Depth::Fold folds into: policy::recordUse on a plain map, without the ledger's lock,
// its copy for the store and its new-day check.
using PlainRecords = std::unordered_map<std::string, policy::AccountUse>;

template <Depth D>
void consume(const AuditEventView& e, Counts& counts, evidence::Ledger& ledger,
             PlainRecords& plain) {
  ++counts.events;
  if constexpr (D == Depth::Decode) {
    counts.touched += e.username.size();
  } else if constexpr (D == Depth::Classify) {
    counts.uses += policy::classify(e) == policy::AuditEventClass::Use ? 1 : 0;
  } else {
    auto use = policy::tokenUseOf(e);
    if (!use) return;
    ++counts.uses;
    counts.touched += use->resource.size();
    if constexpr (D == Depth::Fold) {
      policy::recordUse(plain[objects::objectKey(use->namespace_, use->account)], *use);
    } else if constexpr (D == Depth::Record) {
      ledger.record(*use);
      if (++counts.recorded % kTakeChangedEvery == 0) counts.touched += ledger.takeChanged().size();
    }
  }
}

template <Depth D>
bool runBatches(codec::Decoder& decoder, std::vector<std::string>& batches, Counts& counts,
                evidence::Ledger& ledger, PlainRecords& plain) {
  codec::AuditSink sink{
      .onEvent = [&](const AuditEventView& e) { consume<D>(e, counts, ledger, plain); }};
  for (auto& batch : batches) {
    auto meta = decoder.auditEventList(batch, sink);
    if (!meta.ok() || meta->skippedCount != 0) {
      std::fprintf(stderr, "batch failed: %s\n",
                   meta.ok() ? "events skipped" : meta.error().describe().c_str());
      return false;
    }
  }
  return true;
}

template <Depth D>
bool runLines(codec::Decoder& decoder, const std::string& lines, Counts& counts,
              evidence::Ledger& ledger, PlainRecords& plain) {
  codec::LineFramer framer;
  bool ok = true;
  const std::function<void(const AuditEventView&)> onEvent = [&](const AuditEventView& e) {
    consume<D>(e, counts, ledger, plain);
  };
  auto onLine = [&](codec::PaddedView line) {
    Status status = decoder.auditEvent(line, onEvent);
    if (!status.ok() && ok) {
      std::fprintf(stderr, "line failed: %s\n", status.error().describe().c_str());
      ok = false;
    }
  };
  for (std::size_t pos = 0; pos < lines.size() && ok; pos += kChunkBytes) {
    if (!framer.feed(std::string_view(lines).substr(pos, kChunkBytes), onLine).ok()) return false;
  }
  return ok && framer.finish(onLine).ok();
}

struct Figure {
  double bestWall = 0;  // seconds
  double bestCpu = 0;
  Counts counts;
};

template <Depth D>
bool measure(bool lines, Input& input, int runs, Figure& figure) {
  codec::Decoder decoder;  // one per stream, kept across runs
  for (int run = 0; run < runs; ++run) {
    evidence::Ledger ledger;
    std::size_t newDays = 0;
    ledger.onNewUseDay = [&](const std::string&) { ++newDays; };
    PlainRecords plain;
    Counts counts;
    const double cpu0 = threadCpuSeconds();
    const auto wall0 = std::chrono::steady_clock::now();
    const bool ok = lines ? runLines<D>(decoder, input.lines, counts, ledger, plain)
                          : runBatches<D>(decoder, input.batches, counts, ledger, plain);
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    const double cpu = threadCpuSeconds() - cpu0;
    if (!ok) return false;
    if (run == 0 || wall < figure.bestWall) figure.bestWall = wall;
    if (run == 0 || cpu < figure.bestCpu) figure.bestCpu = cpu;
    if (run > 0 && (counts.events != figure.counts.events || counts.uses != figure.counts.uses)) {
      std::fprintf(stderr, "runs disagree\n");
      return false;
    }
    figure.counts = counts;
  }
  return true;
}

long residentBytes() {
  std::ifstream statm("/proc/self/statm");
  long sizePages = 0;
  long residentPages = 0;
  statm >> sizePages >> residentPages;
  return residentPages * sysconf(_SC_PAGESIZE);
}

std::size_t heapInUse() {
  return mallinfo2().uordblks;
}

struct MemoryPoint {
  std::size_t events = 0;
  std::size_t accounts = 0;
  double heapPerAccount = 0;
  double rssPerAccount = 0;
};

// A fresh ledger fed `events`, then `factor` x `events`, from batches generated on the fly.
bool measureMemory(const Shape& shape, std::size_t events, int factor, MemoryPoint& one,
                   MemoryPoint& many) {
  Generator generator(Shape{shape}, 0x5eed2);
  codec::Decoder decoder;
  std::string batch;
  batch.reserve(std::size_t{2} << 20);
  Expected expected;
  // Warm the decoder's buffers on a throwaway ledger, so they are not counted.
  {
    evidence::Ledger warm;
    openList(batch);
    for (std::size_t i = 0; i < kBatchEvents; ++i) {
      if (i) batch += ',';
      generator.append(batch, expected);
    }
    batch += "]}";
    codec::AuditSink sink{.onEvent = [&](const AuditEventView& e) {
      if (auto use = policy::tokenUseOf(e)) warm.record(*use);
    }};
    if (!decoder.auditEventList(batch, sink).ok()) return false;
  }
  malloc_trim(0);
  const std::size_t heap0 = heapInUse();
  const long rss0 = residentBytes();

  evidence::Ledger ledger;
  std::size_t fed = 0;
  std::size_t batches = 0;
  codec::AuditSink sink{.onEvent = [&](const AuditEventView& e) {
    if (auto use = policy::tokenUseOf(e)) ledger.record(*use);
  }};
  auto feed = [&](std::size_t count) {
    for (std::size_t done = 0; done < count;) {
      openList(batch);
      const std::size_t n = std::min(kBatchEvents, count - done);
      for (std::size_t i = 0; i < n; ++i) {
        if (i) batch += ',';
        generator.append(batch, expected);
      }
      batch += "]}";
      if (!decoder.auditEventList(batch, sink).ok()) return false;
      done += n;
      if (++batches % 50 == 0) ledger.takeChanged();
    }
    fed += count;
    return true;
  };
  auto point = [&](MemoryPoint& p) {
    ledger.takeChanged();
    malloc_trim(0);
    p.events = fed;
    p.accounts = ledger.accounts();
    p.heapPerAccount = static_cast<double>(heapInUse() - heap0) / static_cast<double>(p.accounts);
    p.rssPerAccount = static_cast<double>(residentBytes() - rss0) / static_cast<double>(p.accounts);
  };
  if (!feed(events)) return false;
  point(one);
  if (!feed(events * static_cast<std::size_t>(factor - 1))) return false;
  point(many);
  return true;
}

int usage(const char* self) {
  std::fprintf(stderr,
               "usage: %s [--events N] [--runs K] [--memory-factor F] [--no-memory] [--read FILE]\n"
               "       %s --write FILE [--events N]\n"
               "       %s --print-event\n",
               self, self, self);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Shape shape;
  int runs = 5;
  int factor = 10;
  bool memory = true;
  std::string readPath;
  std::string writePath;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--print-event" && argc == 2) {
      Generator generator(shape, 0x5eed1);
      Expected ignored;
      std::string event;
      // The first service-account event.
      while (event.find("system:serviceaccount:") == std::string::npos) {
        event.clear();
        generator.append(event, ignored);
      }
      std::printf("%s\n", event.c_str());
      return 0;
    } else if (arg == "--events" && i + 1 < argc) {
      shape.events = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--runs" && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else if (arg == "--memory-factor" && i + 1 < argc) {
      factor = std::atoi(argv[++i]);
    } else if (arg == "--no-memory") {
      memory = false;
    } else if (arg == "--read" && i + 1 < argc) {
      readPath = argv[++i];
    } else if (arg == "--write" && i + 1 < argc) {
      writePath = argv[++i];
    } else {
      return usage(argv[0]);
    }
  }
  if (shape.events == 0 || runs <= 0 || factor < 2) return usage(argv[0]);

  Input input;
  Expected expected;
  const bool generated = readPath.empty();
  if (generated) {
    Generator generator(shape, 0x5eed1);
    input.lines.reserve(shape.events * 1200);
    for (std::size_t i = 0; i < shape.events; ++i) {
      generator.append(input.lines, expected);
      input.lines += '\n';
    }
  } else {
    std::ifstream file(readPath, std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "cannot read %s\n", readPath.c_str());
      return 2;
    }
    std::ostringstream content;
    content << file.rdbuf();
    input.lines = std::move(content).str();
  }
  if (!writePath.empty()) {
    std::ofstream out(writePath, std::ios::binary | std::ios::trunc);
    out.write(input.lines.data(), static_cast<std::streamsize>(input.lines.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", writePath.c_str());
      return 2;
    }
    std::printf("wrote %zu events, %zu bytes, to %s\n", expected.events, input.lines.size(),
                writePath.c_str());
    return 0;
  }
  batchesFromLines(input);
  if (generated && input.events != expected.events) {
    std::fprintf(stderr, "generated %zu events, framed %zu\n", expected.events, input.events);
    return 1;
  }
  const double lineMb = static_cast<double>(input.lines.size()) / 1e6;
  const double batchMb = static_cast<double>(input.batchBytes) / 1e6;
  std::printf("%zu events (%s), %.1f MB as lines (%.0f bytes per event), %zu batches of %zu\n",
              input.events, generated ? "generated" : readPath.c_str(), lineMb,
              static_cast<double>(input.lines.size()) / static_cast<double>(input.events),
              input.batches.size(), kBatchEvents);

  Figure figures[2][kDepths];
  for (int shapeIndex = 0; shapeIndex < 2; ++shapeIndex) {
    const bool lines = shapeIndex == 1;
    const bool ok = measure<Depth::Decode>(lines, input, runs, figures[shapeIndex][0]) &&
                    measure<Depth::Classify>(lines, input, runs, figures[shapeIndex][1]) &&
                    measure<Depth::TokenUse>(lines, input, runs, figures[shapeIndex][2]) &&
                    measure<Depth::Fold>(lines, input, runs, figures[shapeIndex][3]) &&
                    measure<Depth::Record>(lines, input, runs, figures[shapeIndex][4]);
    if (!ok) return 1;
    for (const auto& f : figures[shapeIndex]) {
      if (f.counts.events != input.events) {
        std::fprintf(stderr, "decoded %zu events of %zu\n", f.counts.events, input.events);
        return 1;
      }
    }
    for (int d = 2; d < kDepths; ++d) {
      if (figures[shapeIndex][d].counts.uses != figures[shapeIndex][1].counts.uses) {
        std::fprintf(stderr, "tokenUseOf and classify disagree\n");
        return 1;
      }
    }
    if (generated && figures[shapeIndex][1].counts.uses != expected.uses) {
      std::fprintf(stderr, "classified %zu uses, generated %zu\n",
                   figures[shapeIndex][1].counts.uses, expected.uses);
      return 1;
    }
  }
  const std::size_t uses = figures[0][1].counts.uses;

  std::printf("\none thread, best of %d runs; %zu events, %zu of them uses\n", runs, input.events,
              uses);
  std::printf("%-8s %-9s %12s %9s %9s %12s\n", "shape", "depth", "events/s", "MB/s", "ns/event",
              "cpu events/s");
  for (int s = 0; s < 2; ++s) {
    const double mb = s == 0 ? batchMb : lineMb;
    for (int d = 0; d < kDepths; ++d) {
      const Figure& f = figures[s][d];
      const double n = static_cast<double>(input.events);
      std::printf("%-8s %-9s %12.0f %9.1f %9.0f %12.0f\n", s == 0 ? "batch" : "lines",
                  kDepthNames[d], n / f.bestWall, mb / f.bestWall, f.bestWall * 1e9 / n,
                  n / f.bestCpu);
    }
  }

  MemoryPoint one;
  MemoryPoint many;
  if (memory) {
    if (!measureMemory(shape, input.events, factor, one, many)) {
      std::fprintf(stderr, "memory run failed\n");
      return 1;
    }
    std::printf(
        "\nledger memory per tracked account (fresh ledger, heap in use / resident set):\n");
    std::printf("  after %9zu events: %zu accounts, %6.0f B heap, %6.0f B RSS per account\n",
                one.events, one.accounts, one.heapPerAccount, one.rssPerAccount);
    std::printf("  after %9zu events: %zu accounts, %6.0f B heap, %6.0f B RSS per account\n",
                many.events, many.accounts, many.heapPerAccount, many.rssPerAccount);
  }

  const double full = static_cast<double>(input.events) / figures[0][kDepths - 1].bestWall;
  const double fullLines = static_cast<double>(input.events) / figures[1][kDepths - 1].bestWall;
  std::printf(
      "\ntarget >= %.0f events/s (decode + tokenUseOf + record, one core): batch %s, lines %s\n",
      kTargetEventsPerSecond, full >= kTargetEventsPerSecond ? "met" : "NOT met",
      fullLines >= kTargetEventsPerSecond ? "met" : "NOT met");

  // The ledger's content, to compare with the reference implementation.
  evidence::Ledger check;
  Counts ignored;
  {
    codec::Decoder decoder;
    PlainRecords unused;
    if (!runLines<Depth::Record>(decoder, input.lines, ignored, check, unused)) return 1;
  }
  std::int64_t lastUsedSum = 0;
  std::int64_t lastRefusedSum = 0;
  std::size_t podEntries = 0;
  std::size_t accessEntries = 0;
  for (const auto& [key, record] : check.all()) {
    lastUsedSum += record.lastUsed;
    lastRefusedSum += record.lastRefused;
    podEntries += record.pods.size();
    accessEntries += record.accesses.size();
  }

  std::printf(
      "json: {\"bench\":\"audit_ingest\",\"impl\":\"saguard\",\"events\":%zu,\"bytes\":%zu,"
      "\"uses\":%zu,\"accounts\":%zu,\"last_used_sum\":%" PRId64 ",\"last_refused_sum\":%" PRId64
      ",\"pod_entries\":%zu,\"access_entries\":%zu,\"runs\":%d",
      input.events, input.lines.size(), uses, check.accounts(), lastUsedSum, lastRefusedSum,
      podEntries, accessEntries, runs);
  for (int s = 0; s < 2; ++s) {
    const double mb = s == 0 ? batchMb : lineMb;
    std::printf(",\"%s\":{", s == 0 ? "batch" : "lines");
    for (int d = 0; d < kDepths; ++d) {
      const Figure& f = figures[s][d];
      std::printf("%s\"%s\":{\"events_per_s\":%.0f,\"mb_per_s\":%.1f,\"cpu_events_per_s\":%.0f}",
                  d ? "," : "", kDepthNames[d], static_cast<double>(input.events) / f.bestWall,
                  mb / f.bestWall, static_cast<double>(input.events) / f.bestCpu);
    }
    std::printf("}");
  }
  if (memory) {
    std::printf(
        ",\"memory\":{\"accounts\":%zu,\"events_1x\":%zu,\"events_%dx\":%zu,"
        "\"heap_bytes_per_account_1x\":%.0f,\"heap_bytes_per_account_%dx\":%.0f,"
        "\"rss_bytes_per_account_1x\":%.0f,\"rss_bytes_per_account_%dx\":%.0f}",
        many.accounts, one.events, factor, many.events, one.heapPerAccount, factor,
        many.heapPerAccount, one.rssPerAccount, factor, many.rssPerAccount);
  }
  std::printf(
      ",\"target_events_per_s\":%.0f,\"target_met\":%s}\n", kTargetEventsPerSecond,
      full >= kTargetEventsPerSecond && fullLines >= kTargetEventsPerSecond ? "true" : "false");
  return 0;
}
