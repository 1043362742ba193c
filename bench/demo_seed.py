"""demo: `wuye seed-demo` on a freshly migrated database (issue 13 §6: `make demo` ready in
under 90 s on an idle 2-core machine after install). Times each step (wall and CPU seconds),
then a second run (which must create nothing).

    python -m bench demo [--database-url URL]

Measured on the shared 2-core machine (load 9-12 from other work, so wall is several times
CPU; CPU seconds are the comparable figure), SQLite, user CPU of the whole command:
    before (74e4a03, six months, 2,326 payments one by one):   66.3 s
    now (twelve months, ~12,900 payments set-wise, the collectors' month, summaries): 50.3 s
plus `wuye migrate` on an empty database, ~19 s CPU."""

import time


def add_arguments(parser) -> None:
    pass


def run(args) -> dict:
    from wuye.audit import context
    from wuye.demo import seed

    token = context.bind(context.AuditContext(source="cli"))
    steps = {}
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        for name, step in seed.STEPS:
            w, c = time.perf_counter(), time.process_time()
            created = step()
            steps[name] = {
                "seconds": round(time.perf_counter() - w, 2),
                "cpu_seconds": round(time.process_time() - c, 2),
                "created": created,
            }
        first = {
            "seconds": round(time.perf_counter() - wall, 2),
            "cpu_seconds": round(time.process_time() - cpu, 2),
        }
        w = time.perf_counter()
        again = seed.seed_all()
        rerun_created = sum(sum(v.values()) for v in again.values())
    finally:
        context.reset(token)
    return {
        # migrate + seed: `make demo` until the server starts (issue 13: under 90 s idle)
        "ready_seconds": round(args.setup_seconds + first["seconds"], 1),
        "ready_cpu_seconds": round(args.setup_cpu_seconds + first["cpu_seconds"], 1),
        "seed_seconds": first["seconds"],
        "seed_cpu_seconds": first["cpu_seconds"],
        "rerun_seconds": round(time.perf_counter() - w, 2),
        "rerun_created": rerun_created,
        "steps": steps,
    }
