"""Data section: CPU time to draw one health-code QR (target: ≤ 10 ms CPU per image), in-process.

Each image carries a different freshly signed token, as the real refresh does."""
import statistics
import time

from bench.core import Row


def run(ctx, quick: bool) -> list[Row]:
    from app import qr
    from app.health_codes import service as hc_service
    from bench.hot_paths import codes

    n = 200 if quick else 1000
    with ctx.app.app_context():
        people = codes(ctx.fixtures)
        payloads = [hc_service.issue_token(code=people[i % len(people)][0]).token for i in range(n)]
    rows = []
    for fmt in ("png", "svg"):
        for payload in payloads[:20]:  # warm-up
            qr.render(payload, "green", fmt)
        cpu = []
        for payload in payloads:
            started = time.process_time()
            qr.render(payload, "green", fmt)
            cpu.append((time.process_time() - started) * 1000)
        cpu.sort()
        median = statistics.median(cpu)
        rows.append(Row(f"QR render {fmt.upper()}, CPU per image (n={n})", rate=1000 / statistics.mean(cpu),
                        unit="img/s", p50_ms=median, p99_ms=cpu[int(0.99 * (len(cpu) - 1))],
                        target="p50 ≤ 10 ms CPU", met=median <= 10, extra={"qr_version": qr.version(payloads[0])}))
    return rows
