#!/usr/bin/python3
"""The peer side of `bench/run compare`: the same workloads on dask.distributed and ipyparallel.

Prints one JSON object on stdout: {"dask": {...}, "ipyparallel": {...}}, each a map from a workload key
to a number (seconds, microseconds, tasks/s, MB/s or MiB, as the key's suffix says), or {"error": "..."}
when that system is not installed or failed. Progress goes to stderr. Uses Debian's python3-distributed
and python3-ipyparallel (`apt-get install python3-distributed python3-ipyparallel`).
"""
import argparse
import json
import os
import statistics
import sys
import time


def log(message):
    print(f"  peers: {message}", file=sys.stderr, flush=True)


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def settled_rss_mib(pids):
    """The processes' RSS once it stopped changing (within 1 MiB over half a second; at most 30 s): as CapCluster's is read."""
    last = sum(rss_mib(p) for p in pids)
    for _ in range(60):
        time.sleep(0.5)
        now = sum(rss_mib(p) for p in pids)
        if abs(now - last) < 1:
            return now
        last = now
    return last


def noop(x=0):
    return x


def percentiles(samples):
    samples = sorted(samples)
    return samples[len(samples) // 2], samples[min(len(samples) - 1, int(0.99 * len(samples)))]


def warm_median(rounds):
    """The median of the rounds after the first (cold) one, as the CapCluster side reports."""
    return statistics.median(rounds[1:])


def timed_pairs(rounds, first, second):
    """Runs first() then second(result of first) for each round; the warm medians of both durations, in seconds."""
    firsts, seconds = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        value = first()
        firsts.append(time.perf_counter() - t)
        t = time.perf_counter()
        second(value)
        seconds.append(time.perf_counter() - t)
    return warm_median(firsts), warm_median(seconds)


def dask_figures(quick):
    import numpy as np
    from distributed import Client, LocalCluster

    figures = {}
    for n in (2, 8):
        times = []
        for _ in range(1 if quick else 5):
            start = time.perf_counter()
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
            workers = list(client.scheduler_info()["workers"])
            futures = [client.submit(noop, i, workers=[w], pure=False) for i, w in enumerate(workers)]
            client.gather(futures)
            times.append(time.perf_counter() - start)
            client.close()
            cluster.close()
        figures[f"start_{n}_s"] = statistics.median(times)
        log(f"dask start n={n}: {figures[f'start_{n}_s']:.2f} s")

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    try:
        pids = list(client.run(os.getpid).values())
        figures["rss_idle_mib"] = settled_rss_mib(pids)
        for i in range(200):
            client.submit(noop, i, pure=False).result()
        trips = []
        for i in range(300 if quick else 2000):
            t = time.perf_counter()
            client.submit(noop, i, pure=False).result()
            trips.append((time.perf_counter() - t) * 1e6)
        figures["roundtrip_median_us"], figures["roundtrip_p99_us"] = percentiles(trips)
        log(f"dask round trip: {figures['roundtrip_median_us']:.0f} µs")

        for count in (20_000,) if quick else (20_000, 100_000):
            t = time.perf_counter()
            futures = client.map(noop, range(count), pure=False)
            client.gather(futures)
            elapsed = time.perf_counter() - t
            del futures
            figures[f"tasks_{count}_per_s"] = count / elapsed
            log(f"dask {count} tasks: {count / elapsed:.0f}/s")

        worker = list(client.scheduler_info()["workers"])[0]
        array = np.frombuffer(os.urandom(128 * 1024 * 1024), dtype=np.uint8)

        def pull(future):
            assert client.gather(future, direct=True).nbytes == array.nbytes

        push_s, pull_s = timed_pairs(4 if quick else 10, lambda: client.scatter(array, workers=[worker], direct=True, hash=False), pull)
        figures["push_mbps"], figures["pull_mbps"] = 134.217728 / push_s, 134.217728 / pull_s
        log(f"dask push {figures['push_mbps']:.0f} MB/s, pull {figures['pull_mbps']:.0f} MB/s")

        doubles = np.arange(10_000_000, dtype=np.float64)

        def gather(parts):
            assert np.concatenate(client.gather(parts, direct=True)).shape == doubles.shape

        figures["scatter_s"], figures["gather_s"] = timed_pairs(
            4 if quick else 10, lambda: client.scatter(np.array_split(doubles, 2), direct=True, hash=False), gather)
        figures["rss_loaded_mib"] = sum(rss_mib(p) for p in pids)
        log(f"dask scatter {figures['scatter_s']:.3f} s, gather {figures['gather_s']:.3f} s")
    finally:
        client.close()
        cluster.close()
    return figures


def ipyparallel_figures(quick):
    import ipyparallel as ipp
    import numpy as np

    figures = {}
    for n in (2, 8):
        t = time.perf_counter()
        cluster = ipp.Cluster(n=n, log_level=40)
        rc = cluster.start_and_connect_sync()
        rc.wait_for_engines(n, timeout=120)
        rc[:].apply_sync(noop)
        figures[f"start_{n}_s"] = time.perf_counter() - t
        log(f"ipyparallel start n={n}: {figures[f'start_{n}_s']:.2f} s")
        rc.close()
        cluster.stop_cluster_sync()

    cluster = ipp.Cluster(n=2, log_level=40)
    rc = cluster.start_and_connect_sync()
    try:
        rc.wait_for_engines(2, timeout=120)
        view = rc.load_balanced_view()
        direct = rc[:]
        pids = direct.apply_sync(os.getpid)
        figures["rss_idle_mib"] = settled_rss_mib(pids)
        for i in range(100):
            view.apply_sync(noop, i)
        trips = []
        for i in range(300 if quick else 2000):
            t = time.perf_counter()
            view.apply_sync(noop, i)
            trips.append((time.perf_counter() - t) * 1e6)
        figures["roundtrip_median_us"], figures["roundtrip_p99_us"] = percentiles(trips)
        log(f"ipyparallel round trip: {figures['roundtrip_median_us']:.0f} µs")

        for count in (20_000,) if quick else (20_000, 100_000):
            t = time.perf_counter()
            view.map_sync(noop, range(count), chunksize=1)
            elapsed = time.perf_counter() - t
            figures[f"tasks_{count}_per_s"] = count / elapsed
            log(f"ipyparallel {count} tasks: {count / elapsed:.0f}/s")
            rc.purge_everything()

        array = np.frombuffer(os.urandom(128 * 1024 * 1024), dtype=np.uint8)
        one = rc[0]
        def pull(_):
            assert one.pull("blob", block=True).nbytes == array.nbytes

        push_s, pull_s = timed_pairs(4 if quick else 10, lambda: one.push({"blob": array}, block=True), pull)
        figures["push_mbps"], figures["pull_mbps"] = 134.217728 / push_s, 134.217728 / pull_s
        log(f"ipyparallel push {figures['push_mbps']:.0f} MB/s, pull {figures['pull_mbps']:.0f} MB/s")
        one.execute("blob = None", block=True)

        doubles = np.arange(10_000_000, dtype=np.float64)

        def gather(_):
            assert len(direct.gather("part", block=True)) == len(doubles)

        figures["scatter_s"], figures["gather_s"] = timed_pairs(
            4 if quick else 10, lambda: direct.scatter("part", doubles, block=True), gather)
        figures["rss_loaded_mib"] = sum(rss_mib(p) for p in pids)
        log(f"ipyparallel scatter {figures['scatter_s']:.3f} s, gather {figures['gather_s']:.3f} s")
    finally:
        rc.close()
        cluster.stop_cluster_sync()
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, and no 100,000-task run")
    parser.add_argument("--systems", default="dask,ipyparallel")
    options = parser.parse_args()
    result = {}
    for name, measure in (("dask", dask_figures), ("ipyparallel", ipyparallel_figures)):
        if name not in options.systems.split(","):
            continue
        log(f"measuring {name}...")
        try:
            result[name] = measure(options.quick)
        except ImportError as error:
            # Debian names a module's package python3-<module>, dask's python3-distributed.
            package = "python3-distributed" if error.name in ("dask", "distributed") else f"python3-{error.name}"
            result[name] = {"error": f"not installed ({error.name}); apt-get install {package}"}
        except Exception as error:  # a peer that fails must not hide the other's figures
            result[name] = {"error": f"{type(error).__name__}: {error}"}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
