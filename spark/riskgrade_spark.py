#!/usr/bin/env python3
"""riskgrade on Apache Spark: grade a whole book in buckets, with the results of one
single-machine `riskgrade assess` (docs/scale-out.md).

  stage 1  links    Spark SQL: every IP address, device, phone, emergency contact and proxy
                    shared by two or more customers, with its count, and the row saying what
                    it was computed from (the table `riskgrade links` writes), one small
                    Parquet file.
  stage 2  buckets  every input file partitioned by bucket = pmod(xxhash64(customer_id), N),
                    rows kept in their order.
  stage 3  grade    one Spark task per bucket runs `riskgrade assess --bucket K/N --links`
                    on its files; a failed task is retried by Spark.
  stage 4  merge    when every bucket succeeded, `riskgrade merge` on the driver writes one
                    run folder to --out.

Run with spark-submit on YARN or locally:

  spark-submit --master yarn --deploy-mode client spark/riskgrade_spark.py \\
      --data hdfs:///aml/book/2026-10 --work hdfs:///tmp/riskgrade-work \\
      --buckets 1000 --as-of 2026-10-31 --binary /opt/riskgrade/bin/riskgrade \\
      --model model.toml --reference reference --out /data/aml/run-2026-10

--data and --work may be on any file system Spark reads (HDFS, object storage, local);
--out, --binary, --model and --reference are on the driver. The binary is shipped to the
executors with SparkContext.addFile (or give --binary-on-nodes when it is installed there).
Needs only pyspark; no Python package is used on the executors.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

# The data contract's files (docs/data-contract.md), required ones first.
REQUIRED = ["customers", "accounts", "transactions", "reports"]
OPTIONAL = ["grades", "events", "overrides", "grade_history"]


def log(msg):
    print(f"riskgrade-spark: {msg}", file=sys.stderr, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="folder with the input Parquet files")
    p.add_argument("--buckets", type=int, required=True, help="number of buckets N")
    p.add_argument("--out", required=True, help="run folder to write (on the driver)")
    p.add_argument("--as-of", required=True, help="assessment date YYYY-MM-DD")
    p.add_argument("--work", help="working folder (default: OUT.work on the driver)")
    p.add_argument("--binary", help="riskgrade binary on the driver, shipped to executors")
    p.add_argument("--binary-on-nodes", help="riskgrade binary installed at this path on every node")
    p.add_argument("--model", help="model file (default: the model built into riskgrade)")
    p.add_argument("--reference", help="reference tables folder (default: built in)")
    p.add_argument("--horizon", type=int, default=0, help="assess --horizon DAYS")
    p.add_argument("--keep-features", action="store_true", help="assess --keep-features")
    p.add_argument("--master", help="Spark master when not given by spark-submit")
    p.add_argument(
        "--driver-memory",
        default="4g",
        help="driver JVM heap when the script starts Spark itself (python riskgrade_spark.py; "
        "with spark-submit, give spark-submit --driver-memory); in local mode the tasks run "
        "in it and hold one bucket file each",
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


def single_file(spark, folder):
    """The one Parquet part file Spark wrote into `folder`."""
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(folder)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    parts = [
        s.getPath().toString()
        for s in fs.listStatus(hpath)
        if s.getPath().getName().endswith(".parquet")
    ]
    if len(parts) != 1:
        raise SystemExit(f"{folder}: expected one Parquet file, found {len(parts)}")
    return parts[0]


def grade_partition(rows, ctx):
    """Stage 3 task: write each bucket's files, run riskgrade assess, yield its run's files."""
    from pyspark import SparkFiles

    if ctx["binary_on_nodes"]:
        binary = ctx["binary_on_nodes"]
    else:
        binary = SparkFiles.get(ctx["binary_name"])
        os.chmod(binary, 0o755)
    root = tempfile.mkdtemp(prefix="riskgrade-bucket-")
    try:
        buckets = {}
        for r in rows:
            d = os.path.join(ctx["work"], "data", f"bucket-{r.bucket:05d}")
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, f"{r.table}.parquet"), "wb") as f:
                f.write(r.content)
            buckets.setdefault(r.bucket, set()).add(r.table)
        for k in sorted(buckets):
            if "customers" not in buckets[k]:
                continue  # no customer in this bucket: nothing to grade
            d = os.path.join(ctx["work"], "data", f"bucket-{k:05d}")
            for table, content in ctx["empty"].value.items():
                if table not in buckets[k]:
                    with open(os.path.join(d, f"{table}.parquet"), "wb") as f:
                        f.write(content)
            run = os.path.join(root, f"run-{k}")
            cmd = [
                binary, "--quiet", "assess", "--data", d, "--out", run,
                "--as-of", ctx["as_of"], "--horizon", str(ctx["horizon"]),
                "--links", SparkFiles.get(ctx["links_name"]),
                "--bucket", f"{k}/{ctx['buckets']}",
            ]
            if ctx["model_name"]:
                cmd += ["--model", SparkFiles.get(ctx["model_name"])]
            if ctx["reference_name"]:
                cmd += ["--reference", SparkFiles.get(ctx["reference_name"])]
            if ctx["keep_features"]:
                cmd.append("--keep-features")
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                # A failed bucket fails its task: Spark retries it, and the merge never runs.
                raise RuntimeError(
                    f"riskgrade assess of bucket {k}/{ctx['buckets']} exited {p.returncode}: "
                    f"{p.stderr.strip()[-2000:]}"
                )
            for base, _, files in os.walk(run):
                for name in files:
                    path = os.path.join(base, name)
                    with open(path, "rb") as f:
                        yield (k, os.path.relpath(path, run), bytearray(f.read()))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv):
    a = parse_args(argv)
    from pyspark import StorageLevel
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
    work = a.work or (out.rstrip("/") + ".work")
    data = a.data.rstrip("/")
    t0 = time.time()

    tables = [t for t in REQUIRED + OPTIONAL if exists(spark, f"{data}/{t}.parquet")]
    missing = [t for t in REQUIRED if t not in tables]
    if missing:
        raise SystemExit(f"--data {data}: missing {', '.join(t + '.parquet' for t in missing)}")
    frames = {t: spark.read.parquet(f"{data}/{t}.parquet") for t in tables}
    for t, df in frames.items():
        df.createOrReplaceTempView(t)

    # Stage 1: the links table.
    sc.setJobDescription("riskgrade stage 1: links")
    log(f"stage 1: links (look-back {lookback_months(a.model)} months)")
    links_dir = f"{work}/links"
    spark.sql(links_sql(a.as_of, lookback_months(a.model))).coalesce(1).write.mode(
        "overwrite"
    ).parquet(links_dir)
    links_file = single_file(spark, links_dir)
    log(f"stage 1 done in {time.time() - t0:.1f}s: {links_file}")

    # Stage 2: every file partitioned by bucket, rows in their order; a schema-only file of
    # each table for buckets without its rows.
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
            .parquet(f"{work}/buckets/{t}")
        )
        df.limit(0).coalesce(1).write.mode("overwrite").parquet(f"{work}/empty/{t}")
    per_bucket = {
        r["bucket"]: r["count"]
        for r in frames["customers"].groupBy(bucket.alias("bucket")).count().collect()
    }
    empty_buckets = [k for k in range(n) if k not in per_bucket]
    customers = sum(per_bucket.values())
    log(
        f"stage 2 done in {time.time() - t0:.1f}s: {customers} customers, "
        f"{min(per_bucket.values())}-{max(per_bucket.values())} per bucket"
    )

    # Stage 3: one task per bucket.
    sc.setJobDescription(f"riskgrade stage 3: grade {n} buckets")
    sc.addFile(links_file)
    ctx = {
        "as_of": a.as_of,
        "buckets": n,
        "horizon": a.horizon,
        "work": work,
        "keep_features": a.keep_features,
        "links_name": os.path.basename(links_file),
        "binary_on_nodes": a.binary_on_nodes,
        "binary_name": None,
        "model_name": None,
        "reference_name": None,
    }
    if a.binary:
        sc.addFile(os.path.abspath(a.binary))
        ctx["binary_name"] = os.path.basename(a.binary)
    if a.model:
        sc.addFile(os.path.abspath(a.model))
        ctx["model_name"] = os.path.basename(a.model)
    if a.reference:
        sc.addFile(os.path.abspath(a.reference), recursive=True)
        ctx["reference_name"] = os.path.basename(os.path.abspath(a.reference))
    empty = {}
    for t in REQUIRED:
        f = single_file(spark, f"{work}/empty/{t}")
        empty[t] = bytes(
            spark.read.format("binaryFile").load(f).select("content").first()["content"]
        )
    ctx["empty"] = sc.broadcast(empty)
    files = None
    for t in tables:
        df = (
            spark.read.format("binaryFile")
            .option("pathGlobFilter", "*.parquet")
            .load(f"{work}/buckets/{t}")
            .select(F.col("bucket").cast("int").alias("bucket"), F.lit(t).alias("table"), "content")
        )
        files = df if files is None else files.unionByName(df)
    results = (
        files.repartition(n, "bucket")
        .rdd.mapPartitions(lambda rows: grade_partition(rows, ctx))
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    results.count()  # every bucket graded (in parallel) before anything is brought back
    runs = out.rstrip("/") + ".runs"
    shutil.rmtree(runs, ignore_errors=True)
    graded = set()
    for k, rel, content in results.toLocalIterator():
        path = os.path.join(runs, f"bucket-{k:05d}", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content)
        graded.add(k)
    results.unpersist()
    if graded | set(empty_buckets) != set(range(n)):
        raise SystemExit(f"buckets without a run: {sorted(set(range(n)) - graded - set(empty_buckets))}")
    log(f"stage 3 done in {time.time() - t0:.1f}s: {len(graded)} buckets graded")

    # Stage 4: merge on the driver.
    binary = os.path.abspath(a.binary) if a.binary else a.binary_on_nodes
    cmd = [binary, "merge", "--out", out, "--runs"]
    cmd += [os.path.join(runs, f"bucket-{k:05d}") for k in sorted(graded)]
    if a.model:
        cmd += ["--model", a.model]
    if a.reference:
        cmd += ["--reference", a.reference]
    if empty_buckets:
        cmd += ["--empty-buckets", ",".join(map(str, empty_buckets))]
    log("stage 4: merge")
    subprocess.run(cmd, check=True)
    shutil.rmtree(runs, ignore_errors=True)
    log(f"done in {time.time() - t0:.1f}s: {out}")
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
