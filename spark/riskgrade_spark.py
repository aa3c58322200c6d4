#!/usr/bin/env python3
"""riskgrade on Apache Spark: grade a whole book in buckets, with the results of one
single-machine `riskgrade assess` (docs/scale-out.md). No per-customer row passes through the
driver: the tasks read their bucket's files from --work and write their runs there, and the
run folder is made of links to those runs' files.

  stage 1  links    Spark SQL: every IP address, device, phone, emergency contact and proxy
                    shared by two or more customers, with its count, and the row saying what
                    it was computed from (the table `riskgrade links` writes), one small
                    Parquet file under --work.
  stage 1b owners   (a book with ownership.parquet) one Spark task writes the book's customers,
                    ownership graph and persons under --work and runs `riskgrade owners`: the
                    beneficial-owners table of the whole book, solved once, since an entity of
                    one bucket may be owned through entities of another.
  stage 2  buckets  every input file partitioned by bucket = pmod(xxhash64(customer_id), N),
                    rows kept in their order, under --work (one file per table and bucket).
  stage 3  grade    one Spark task per bucket links its bucket's files into a data folder and
                    runs `riskgrade assess --bucket K/N --links [--owners]` into
                    --work/runs/bucket-K; a
                    failed task is retried by Spark. It returns its exit status only.
  stage 4  merge    `riskgrade merge` on the driver: --out holds the summaries added up, the
                    report, the manifest, and every per-customer output as a dataset of one
                    part per bucket, hard-linked from the bucket runs (never read).
  stage 5  extract  (with --extract-period START END) one task per bucket runs `riskgrade
                    extract --bucket K/N`, reading only its bucket's part and customers file;
                    the driver's `riskgrade extract --parts` concatenates the CSV files and
                    reconciles them with the run into --extract-out.

--data may be on any file system Spark reads (HDFS, object storage, local). --work and --out
must be one file system mounted at the same path on the driver and every executor (NFS, a
parallel file system, HDFS through its NFS gateway or FUSE; the local disk in local mode or on
a one-host standalone cluster): the tasks and the riskgrade binary read and write them as
files. Keep --work to `riskgrade verify` the run later: its manifest names the bucket files
there as the run's inputs.

Run with spark-submit on YARN, a standalone cluster or locally:

  spark-submit --master yarn --deploy-mode client spark/riskgrade_spark.py \\
      --data hdfs:///aml/book/2026-10 --work /shared/riskgrade-work \\
      --buckets 1000 --as-of 2026-10-31 --binary /opt/riskgrade/bin/riskgrade \\
      --model model.toml --reference reference --out /shared/aml/run-2026-10

The binary, model and reference tables reach the executors through --work (or give
--binary-on-nodes when the binary is installed there). Needs only pyspark; no Python package is
used on the executors.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

# The data contract's files (docs/data-contract.md), required ones first.
REQUIRED = ["customers", "accounts", "transactions", "reports"]
OPTIONAL = ["grades", "events", "overrides", "grade_history"]
# The ownership graph: not split by customer (stage 1b).
GRAPH = ["ownership", "persons"]


def log(msg):
    print(f"riskgrade-spark: {msg}", file=sys.stderr, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="folder with the input Parquet files")
    p.add_argument("--buckets", type=int, required=True, help="number of buckets N")
    p.add_argument("--out", required=True, help="run folder to write (on the shared file system)")
    p.add_argument("--as-of", required=True, help="assessment date YYYY-MM-DD")
    p.add_argument("--work", help="working folder on the shared file system (default: OUT.work)")
    p.add_argument("--binary", help="riskgrade binary on the driver, shipped to executors")
    p.add_argument("--binary-on-nodes", help="riskgrade binary installed at this path on every node")
    p.add_argument("--model", help="model file (default: the model built into riskgrade)")
    p.add_argument("--reference", help="reference tables folder (default: built in)")
    p.add_argument("--horizon", type=int, default=0, help="assess --horizon DAYS")
    p.add_argument("--keep-features", action="store_true", help="assess --keep-features")
    p.add_argument(
        "--single-file",
        action="store_true",
        help="merge --single-file: the per-customer outputs concatenated into single files on "
        "the driver (for books that fit on it); by default they are datasets of parts",
    )
    p.add_argument(
        "--extract-period",
        nargs=2,
        metavar=("START", "END"),
        help="also extract the inspection tables for this period, bucket by bucket (stage 5)",
    )
    p.add_argument("--extract-out", help="extract folder (default: OUT.extract)")
    p.add_argument("--extracted-on", help="extract --extracted-on DATE (default: today)")
    p.add_argument("--master", help="Spark master when not given by spark-submit")
    p.add_argument(
        "--driver-memory",
        default="1g",
        help="driver JVM heap when the script starts Spark itself (python riskgrade_spark.py; "
        "with spark-submit, give spark-submit --driver-memory): the driver holds no "
        "per-customer row",
    )
    a = p.parse_args(argv)
    if a.buckets < 1:
        p.error("--buckets must be at least 1")
    if not a.binary and not a.binary_on_nodes:
        p.error("give --binary (shipped) or --binary-on-nodes (installed)")
    return a


def lookback_months(model_path):
    """The model's [features] lookback_months (12 when not set)."""
    if not model_path:
        return 12
    if tomllib is None:
        raise SystemExit("reading the model needs Python 3.11 (tomllib)")
    with open(model_path, "rb") as f:
        return int(tomllib.load(f).get("features", {}).get("lookback_months", 12))


def exists(spark, path):
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return fs.exists(hpath)


def links_sql(as_of, months):
    """Stage 1 (S3.2(1), S3.2(3), S3.4(1), S3.4(3), S3.4(4)), as riskgrade counts them: IP
    addresses and devices of online or mobile transactions in the look-back window
    (as-of - months < day <= as-of); proxies of onboarding, account opening and window
    transactions; accounts per opening proxy; phones and emergency contacts."""
    win = (
        f"SELECT customer_id, channel IN ('online', 'mobile') AS online, ip_address, device_id, "
        f"proxy_id FROM transactions WHERE CAST(ts AS DATE) > add_months(DATE'{as_of}', -{months}) "
        f"AND CAST(ts AS DATE) <= DATE'{as_of}'"
    )
    distinct = "CAST(COUNT(DISTINCT customer_id) AS INT)"
    rows = "CAST(COUNT(*) AS INT)"
    parts = [
        f"SELECT 'ip_address' AS link, CAST(ip_address AS STRING) AS key, {distinct} AS count "
        f"FROM win WHERE online AND ip_address IS NOT NULL GROUP BY ip_address",
        f"SELECT 'device_id', CAST(device_id AS STRING), {distinct} "
        f"FROM win WHERE online AND device_id IS NOT NULL GROUP BY device_id",
        f"SELECT 'proxy_customers', CAST(p AS STRING), {distinct} FROM ("
        f"SELECT onboarding_proxy_id AS p, customer_id FROM customers UNION ALL "
        f"SELECT opened_by_proxy_id, customer_id FROM accounts UNION ALL "
        f"SELECT proxy_id, customer_id FROM win) WHERE p IS NOT NULL GROUP BY p",
        f"SELECT 'proxy_accounts', CAST(opened_by_proxy_id AS STRING), {rows} "
        f"FROM accounts WHERE opened_by_proxy_id IS NOT NULL GROUP BY opened_by_proxy_id",
        f"SELECT 'phone_hash', CAST(phone_hash AS STRING), {rows} "
        f"FROM customers WHERE phone_hash IS NOT NULL GROUP BY phone_hash",
        f"SELECT 'emergency_contact_hash', CAST(emergency_contact_hash AS STRING), {rows} "
        f"FROM customers WHERE emergency_contact_hash IS NOT NULL GROUP BY emergency_contact_hash",
    ]
    union = " UNION ALL ".join(parts)
    # What the table was computed from, as riskgrade links writes it: assess --links refuses
    # a table of another as-of date or look-back window, merge one of another book.
    source = (
        f"SELECT 'computed_from' AS link, concat('as_of={as_of};lookback_months={months};customers=', "
        f"CAST(COUNT(*) AS STRING), ';id_xor=', lower(lpad(hex(bit_xor(xxhash64(customer_id))), 16, '0'))) "
        f"AS key, CAST(COUNT(*) AS INT) AS count FROM customers"
    )
    return (
        f"WITH win AS ({win}) SELECT * FROM ({union}) WHERE count >= 2 "
        f"UNION ALL {source} ORDER BY link, key"
    )


def link_or_copy(src, dst):
    """dst holds src's bytes: a hard link on one file system, else a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def one_file(folder):
    """The one Parquet part file Spark wrote into a local folder."""
    parts = sorted(f for f in os.listdir(folder) if f.endswith(".parquet"))
    if len(parts) != 1:
        raise RuntimeError(f"{folder}: expected one Parquet file, found {len(parts)}")
    return os.path.join(folder, parts[0])


def run_checked(cmd, what):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        # A failed bucket fails its task: Spark retries it, and nothing is merged.
        raise RuntimeError(f"{what} exited {p.returncode}: {p.stderr.strip()[-2000:]}")


def grade_bucket(k, ctx):
    """Stage 3 task: bucket k's data folder (links to its files under --work), then
    riskgrade assess into --work/runs/bucket-k. Returns (k, 0): nothing else."""
    binary = ctx["binary"]
    work = ctx["work"]
    d = os.path.join(work, "data", f"bucket-{k:05d}")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for t in ctx["tables"]:
        part = os.path.join(work, "buckets", t, f"bucket={k}")
        src = one_file(part) if os.path.isdir(part) else one_file(os.path.join(work, "empty", t))
        link_or_copy(src, os.path.join(d, f"{t}.parquet"))
    run = os.path.join(work, "runs", f"bucket-{k:05d}")
    cmd = [
        binary, "--quiet", "assess", "--data", d, "--out", run,
        "--as-of", ctx["as_of"], "--horizon", str(ctx["horizon"]),
        "--links", ctx["links"], "--bucket", f"{k}/{ctx['buckets']}",
    ]
    if ctx["owners"]:
        cmd += ["--owners", ctx["owners"]]
    if ctx["model"]:
        cmd += ["--model", ctx["model"]]
    if ctx["reference"]:
        cmd += ["--reference", ctx["reference"]]
    if ctx["keep_features"]:
        cmd.append("--keep-features")
    run_checked(cmd, f"riskgrade assess of bucket {k}/{ctx['buckets']}")
    return (k, 0)


def solve_owners(ctx):
    """Stage 1b task: riskgrade owners over the book's customers and graph under --work."""
    binary = ctx["binary"]
    d = os.path.join(ctx["work"], "owners-data")
    for t in ["customers"] + ctx["graph"]:
        link_or_copy(one_file(os.path.join(ctx["work"], "graph", t)), os.path.join(d, f"{t}.parquet"))
    for t in ["accounts", "transactions", "reports"]:
        link_or_copy(one_file(os.path.join(ctx["work"], "empty", t)), os.path.join(d, f"{t}.parquet"))
    cmd = [binary, "--quiet", "owners", "--data", d, "--out", ctx["owners"], "--as-of", ctx["as_of"]]
    if ctx["model"]:
        cmd += ["--model", ctx["model"]]
    if ctx["reference"]:
        cmd += ["--reference", ctx["reference"]]
    run_checked(cmd, "riskgrade owners")
    return (0, 0)


def extract_bucket(k, ctx):
    """Stage 5 task: riskgrade extract --bucket k/N of the run, into --work/extract/bucket-k;
    it reads only bucket k's part of the run and its own customers file. Returns (k, 0)."""
    binary = ctx["binary"]
    out = os.path.join(ctx["work"], "extract", f"bucket-{k:05d}")
    cmd = [binary, "--quiet", "extract", "--run", ctx["out"], "--bucket", f"{k}/{ctx['buckets']}",
           "--out", out] + ctx["extract_args"]
    run_checked(cmd, f"riskgrade extract of bucket {k}/{ctx['buckets']}")
    return (k, 0)


class Received:
    """What the driver is handed by the tasks, counted in bytes (it must never grow with the
    number of customers)."""

    def __init__(self):
        self.bytes = 0

    def take(self, rows):
        import pickle

        self.bytes += len(pickle.dumps(rows))
        return rows


def main(argv):
    a = parse_args(argv)
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    builder = SparkSession.builder.appName("riskgrade")
    if a.master:
        builder = builder.master(a.master)
    if "SPARK_SUBMIT_OPTS" not in os.environ and "spark.driver.memory" not in os.environ.get(
        "PYSPARK_SUBMIT_ARGS", ""
    ):
        builder = builder.config("spark.driver.memory", a.driver_memory)
    spark = (
        builder.config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .getOrCreate()
    )
    sc = spark.sparkContext
    n = a.buckets
    out = os.path.abspath(a.out)
    work = os.path.abspath(a.work or (out.rstrip("/") + ".work"))
    data = a.data.rstrip("/")
    received = Received()
    t0 = time.time()

    tables = [t for t in REQUIRED + OPTIONAL if exists(spark, f"{data}/{t}.parquet")]
    missing = [t for t in REQUIRED if t not in tables]
    if missing:
        raise SystemExit(f"--data {data}: missing {', '.join(t + '.parquet' for t in missing)}")
    frames = {t: spark.read.parquet(f"{data}/{t}.parquet") for t in tables}
    for t, df in frames.items():
        df.createOrReplaceTempView(t)
    graph = [t for t in GRAPH if exists(spark, f"{data}/{t}.parquet")]

    # Stage 1: the links table.
    sc.setJobDescription("riskgrade stage 1: links")
    log(f"stage 1: links (look-back {lookback_months(a.model)} months)")
    # Spark writes under --work as local files (file://): the shared file system, not the
    # cluster's default one.
    shared = f"file://{work}"
    links_dir = f"{work}/links"
    spark.sql(links_sql(a.as_of, lookback_months(a.model))).coalesce(1).write.mode(
        "overwrite"
    ).parquet(f"{shared}/links")
    links_file = one_file(links_dir)
    log(f"stage 1 done in {time.time() - t0:.1f}s: {links_file}")

    # Stage 2: every file partitioned by bucket, rows in their order, one file per bucket; a
    # schema-only file of each table for buckets without its rows.
    sc.setJobDescription(f"riskgrade stage 2: {n} buckets")
    bucket = F.expr(f"pmod(xxhash64(customer_id), {n})")
    for t, df in frames.items():
        (
            df.withColumn("_row", F.monotonically_increasing_id())
            .withColumn("bucket", bucket)
            .repartition(n, "bucket")
            .sortWithinPartitions("bucket", "_row")
            .drop("_row")
            .write.mode("overwrite")
            .partitionBy("bucket")
            .parquet(f"{shared}/buckets/{t}")
        )
        df.limit(0).coalesce(1).write.mode("overwrite").parquet(f"{shared}/empty/{t}")
    per_bucket = {
        r["bucket"]: r["count"]
        for r in received.take(
            frames["customers"].groupBy(bucket.alias("bucket")).count().collect()
        )
    }
    empty_buckets = [k for k in range(n) if k not in per_bucket]
    graded = sorted(per_bucket)
    customers = sum(per_bucket.values())
    log(
        f"stage 2 done in {time.time() - t0:.1f}s: {customers} customers, "
        f"{min(per_bucket.values())}-{max(per_bucket.values())} per bucket"
    )

    # Stage 3: one task per bucket with customers.
    sc.setJobDescription(f"riskgrade stage 3: grade {len(graded)} buckets")
    ctx = {
        "as_of": a.as_of,
        "buckets": n,
        "horizon": a.horizon,
        "keep_features": a.keep_features,
        "work": work,
        "out": out,
        "tables": tables,
        "links": links_file,
        "binary": a.binary_on_nodes,
        "model": None,
        "reference": None,
    }
    # What every task needs besides its bucket goes through the shared --work folder: the
    # binary, the model file and the reference tables.
    shipped = os.path.join(work, "shipped")
    shutil.rmtree(shipped, ignore_errors=True)
    os.makedirs(shipped)
    if a.binary:
        ctx["binary"] = os.path.join(shipped, "riskgrade")
        shutil.copy2(os.path.abspath(a.binary), ctx["binary"])
    if a.model:
        ctx["model"] = os.path.join(shipped, os.path.basename(a.model))
        shutil.copy2(a.model, ctx["model"])
    if a.reference:
        ctx["reference"] = os.path.join(shipped, "reference")
        shutil.copytree(a.reference, ctx["reference"])
    # Stage 1b: the beneficial owners of the whole book, solved once by one task.
    ctx["owners"] = None
    if graph:
        sc.setJobDescription("riskgrade stage 1b: beneficial owners")
        log("stage 1b: beneficial owners")
        shutil.rmtree(os.path.join(work, "owners-data"), ignore_errors=True)
        os.makedirs(os.path.join(work, "owners-data"))
        for t in ["customers"] + graph:
            # One file each, rows in their order, written by the executors (not the driver).
            spark.read.parquet(f"{data}/{t}.parquet").coalesce(1).write.mode("overwrite").parquet(
                f"{shared}/graph/{t}"
            )
        ctx["graph"] = graph
        ctx["owners"] = os.path.join(work, "owners.parquet")
        if os.path.exists(ctx["owners"]):
            os.remove(ctx["owners"])
        received.take(sc.parallelize([0], 1).map(lambda _: solve_owners(ctx)).collect())
        log(f"stage 1b done in {time.time() - t0:.1f}s: {ctx['owners']}")
    shutil.rmtree(os.path.join(work, "runs"), ignore_errors=True)
    done = received.take(
        sc.parallelize(graded, len(graded)).map(lambda k: grade_bucket(k, ctx)).collect()
    )
    if sorted(k for k, _ in done) != graded:
        raise SystemExit(f"buckets without a run: {sorted(set(graded) - {k for k, _ in done})}")
    log(f"stage 3 done in {time.time() - t0:.1f}s: {len(done)} buckets graded")

    # Stage 4: merge on the driver; the per-customer files are linked, not read.
    binary = os.path.abspath(a.binary) if a.binary else a.binary_on_nodes
    cmd = [binary, "merge", "--out", out, "--runs"]
    cmd += [os.path.join(work, "runs", f"bucket-{k:05d}") for k in graded]
    if a.model:
        cmd += ["--model", a.model]
    if a.reference:
        cmd += ["--reference", a.reference]
    if empty_buckets:
        cmd += ["--empty-buckets", ",".join(map(str, empty_buckets))]
    if a.single_file:
        cmd.append("--single-file")
    log("stage 4: merge")
    subprocess.run(cmd, check=True)

    # Stage 5: the inspection tables, bucket by bucket, then combined on the driver.
    if a.extract_period:
        if a.single_file:
            raise SystemExit("--extract-period: extract a --single-file run with riskgrade extract")
        sc.setJobDescription(f"riskgrade stage 5: extract {len(graded)} buckets")
        extract_out = os.path.abspath(a.extract_out or (out.rstrip("/") + ".extract"))
        extract_args = ["--period-start", a.extract_period[0], "--period-end", a.extract_period[1]]
        if a.extracted_on:
            extract_args += ["--extracted-on", a.extracted_on]
        ctx["extract_args"] = extract_args
        shutil.rmtree(os.path.join(work, "extract"), ignore_errors=True)
        done = received.take(
            sc.parallelize(graded, len(graded)).map(lambda k: extract_bucket(k, ctx)).collect()
        )
        parts = [os.path.join(work, "extract", f"bucket-{k:05d}") for k, _ in sorted(done)]
        log("stage 5: combining the extract")
        subprocess.run(
            [binary, "extract", "--run", out, "--out", extract_out, *extract_args, "--parts", *parts],
            check=True,
        )
    log(f"the driver received {received.bytes} bytes from the tasks")
    log(f"done in {time.time() - t0:.1f}s: {out}")
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
