"""Consolidation at national scale: completeness, timeliness and figures of one requirement and
period over ~130,000 grassroots unions, in the pure domain (no database, no NATS).

    python -m bench.consolidation [--grassroots 130000] [--provinces 63] [--upper 700] [--share 0.9]
                                  [--seed 1] [--repeat 3]

1. Generates a hierarchy: 1 national federation, 63 provincial federations, ~700 upper-level unions
   spread over the provinces, N grassroots unions (about 12% directly under a province, the rest
   under an upper-level union), names in Vietnamese.
2. Generates submissions for about 90% of the expected units (provinces, upper-level unions and
   grassroots unions): 85% accepted, 10% submitted (not yet reviewed), 5% returned; 85% on time;
   figures of the campaign form `bc-01-kl-tw` v1 and short narratives.
3. Times (best of --repeat, without tracing) the whole pipeline: building the hierarchy snapshot
   from child→parent links, `consolidate` (counting rule: accepted only), and reading the national
   node, its 63 children, the list of missing units and the narratives per province. Then runs
   it once more under tracemalloc for the peak of memory allocated by the pipeline itself
   (the generated input is not counted) and reports the process's max RSS.

The last line printed is machine-readable:
    units=<…> seconds=<…> peak_mb=<…> snapshot_s=<…> consolidate_s=<…> query_s=<…> max_rss_mb=<…>
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import sys
import time
import tracemalloc
from datetime import date

from services.reports.domain.consolidation import (
    ACCEPTED_ONLY,
    HierarchySnapshot,
    ReportStatus,
    Submission,
    consolidate,
)
from services.reports.domain.forms import CAMPAIGN_FORM_01KL

NATIONAL, PROVINCE, UPPER, GRASSROOTS = ("national_federation", "provincial_federation", "upper_level_union",
                                         "grassroots_union")


def generate(grassroots: int, provinces: int, upper: int, share: float, seed: int):  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    parents: dict[str, str | None] = {"vn": None}
    names = {"vn": "Tổng Liên đoàn Lao động Việt Nam"}
    kinds = {"vn": NATIONAL}
    prov_ids = [f"p{p:02d}" for p in range(provinces)]
    for p, pid in enumerate(prov_ids):
        parents[pid], names[pid], kinds[pid] = "vn", f"Liên đoàn Lao động tỉnh số {p + 1}", PROVINCE
    upper_ids = []
    for u in range(upper):
        uid = f"u{u:04d}"
        parents[uid], names[uid], kinds[uid] = prov_ids[u % provinces], f"Công đoàn khu công nghiệp số {u + 1}", UPPER
        upper_ids.append(uid)
    for g in range(grassroots):
        gid = f"g{g:06d}"
        parents[gid] = rng.choice(prov_ids) if rng.random() < 0.12 else rng.choice(upper_ids)
        names[gid], kinds[gid] = f"Công đoàn cơ sở Công ty TNHH số {g + 1}", GRASSROOTS
    expected = [u for u, k in kinds.items() if k != NATIONAL]
    texts = {"results": "Tổ chức học tập chuyên đề năm cho toàn thể đoàn viên; 100% Ủy viên BCH có kế hoạch cá nhân.",
             "limitations": "Một số đoàn viên làm việc theo ca nên khó tham gia đầy đủ.",
             "next_year_tasks": "Tiếp tục đưa việc học tập và làm theo Bác vào sinh hoạt công đoàn."}
    submissions = []
    statuses = [ReportStatus.ACCEPTED] * 17 + [ReportStatus.SUBMITTED] * 2 + [ReportStatus.RETURNED]
    for uid in expected:
        if rng.random() >= share:
            continue
        members = rng.randint(10, 2000)
        cadres = rng.randint(3, 15)
        values = {"study_sessions": rng.randint(1, 12), "participants": members * rng.randint(1, 3),
                  "cadres_total": cadres, "cadres_with_plans": rng.randint(0, cadres), "members_total": members,
                  "members_with_plans": rng.randint(0, members), "exemplary_models": rng.randint(0, 3),
                  "commended_collectives": rng.randint(0, 2), "commended_individuals": rng.randint(0, 10),
                  "news_posts": rng.randint(0, 20), **texts}
        submissions.append(Submission(uid, values, rng.choice(statuses), rng.random() < 0.85))
    return parents, names, kinds, expected, submissions


def pipeline(parents, names, kinds, expected, submissions):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    snap = HierarchySnapshot.from_parents(parents, names, kinds, as_of=date(2026, 11, 30))
    t1 = time.perf_counter()
    cons = consolidate(CAMPAIGN_FORM_01KL, snap, expected, submissions, rule=ACCEPTED_ONLY, root="vn",
                       requirement_id="bc-01-kl-tw", period="2026")
    t2 = time.perf_counter()
    national = cons.node()
    provinces = cons.children()
    missing = cons.missing()
    narratives = cons.narratives(provinces[0].unit_id)
    t3 = time.perf_counter()
    return (t1 - t0, t2 - t1, t3 - t2), (national, provinces, missing, narratives)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grassroots", type=int, default=130_000)
    ap.add_argument("--provinces", type=int, default=63)
    ap.add_argument("--upper", type=int, default=700)
    ap.add_argument("--share", type=float, default=0.9, help="share of expected units that submitted")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    t = time.perf_counter()
    data = generate(args.grassroots, args.provinces, args.upper, args.share, args.seed)
    parents, _, _, expected, submissions = data
    print(f"generated {len(parents)} units, {len(expected)} expected, {len(submissions)} submissions "
          f"in {time.perf_counter() - t:.1f} s", file=sys.stderr)

    best: tuple[float, float, float] | None = None
    for _ in range(max(1, args.repeat)):
        gc.collect()
        times, result = pipeline(*data)
        if best is None or sum(times) < sum(best):
            best = times
    national, provinces, missing, _ = result
    c = national.completeness
    print(f"national: expected={c.expected} submitted={c.submitted} on_time={c.on_time} late={c.late} "
          f"missing={c.missing} (returned={c.returned} pending={c.pending}); provinces={len(provinces)}; "
          f"members_with_plans_share={national.indicators['members_with_plans_share']:.4f}", file=sys.stderr)
    del result, national, provinces, missing

    gc.collect()
    tracemalloc.start()
    pipeline(*data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    snap_s, cons_s, query_s = best  # type: ignore[misc]
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"units={len(parents)} seconds={snap_s + cons_s + query_s:.3f} peak_mb={peak / 2**20:.1f} "
          f"snapshot_s={snap_s:.3f} consolidate_s={cons_s:.3f} query_s={query_s:.3f} max_rss_mb={rss_kb / 1024:.0f}")


if __name__ == "__main__":
    main()
