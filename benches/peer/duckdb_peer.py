#!/usr/bin/env python3
"""The DuckDB peer of `riskgrade assess`: the same features, sub-item scores, totals and grades,
computed in plain SQL from the same Parquet files with the same model file, as an analyst would
write it. Used by benches/e2e.sh to measure riskgrade against it, and to check that both give the
same grades.

usage: duckdb_peer.py --data DIR --model FILE --reference DIR --as-of YYYY-MM-DD --out FILE
                      [--compare scores.parquet]
"""
import argparse
import csv
import datetime as dt
import glob
import os
import re
import sys
import time
import tomllib

import duckdb


def q(s):
    return "'" + str(s).replace("'", "''") + "'"


def add_months(d, months):
    y, m = divmod(d.month - 1 - months, 12)
    y += d.year
    m += 1
    import calendar

    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


# ---------------------------------------------------------------- expressions (XH6, XL)
TOKEN = re.compile(r"\s*(?:(?P<num>-?\d[\d_]*(?:\.\d+)?)|(?P<str>'[^']*'|\"[^\"]*\")|(?P<op>==|!=|<=|>=|<|>)|(?P<p>[()\[\],])|(?P<id>[A-Za-z_]\w*))")


def expr_sql(src):
    toks = []
    pos = 0
    while pos < len(src):
        m = TOKEN.match(src, pos)
        if not m or m.end() == pos:
            if src[pos:].strip() == "":
                break
            raise ValueError(f"cannot read expression at {src[pos:]}")
        pos = m.end()
        kind = m.lastgroup
        toks.append((kind, m.group(kind)))
    i = 0

    def peek():
        return toks[i] if i < len(toks) else (None, None)

    def take():
        nonlocal i
        i += 1
        return toks[i - 1]

    def atom():
        k, v = take()
        if k == "num":
            return v.replace("_", "")
        if k == "str":
            return q(v[1:-1])
        if k == "id" and v in ("true", "false"):
            return v.upper()
        if k == "id":
            return v
        if v == "(":
            e = or_()
            take()
            return f"({e})"
        raise ValueError(v)

    def cmp():
        lhs = atom()
        k, v = peek()
        if k == "id" and v == "in":
            take()
            take()  # [
            items = []
            while True:
                items.append(atom())
                _, sep = take()
                if sep == "]":
                    break
            return f"COALESCE({lhs} IN ({', '.join(items)}), FALSE)"
        if k == "op":
            take()
            rhs = atom()
            op = {"==": "=", "!=": "<>"}.get(v, v)
            return f"COALESCE({lhs} {op} {rhs}, FALSE)"
        return f"COALESCE({lhs}, FALSE)"

    def not_():
        k, v = peek()
        if k == "id" and v == "not":
            take()
            return f"(NOT {not_()})"
        return cmp()

    def and_():
        e = not_()
        while peek() == ("id", "and"):
            take()
            e = f"({e} AND {not_()})"
        return e

    def or_():
        e = and_()
        while peek() == ("id", "or"):
            take()
            e = f"({e} OR {and_()})"
        return e

    return or_()


# ---------------------------------------------------------------- scoring rules
def interval(s):
    s = s.strip()
    lo_inc, hi_inc = s[0] == "[", s[-1] == "]"
    a, b = [x.strip() for x in s[1:-1].split(",")]
    return a, lo_inc, b, hi_inc


def rule_sql(rule):
    x = rule["feature"]
    if "bins" in rule:
        parts = []
        for b in rule["bins"]:
            a, li, c, hi = interval(b["interval"])
            conds = [f"{x} IS NOT NULL"]
            if a != "-inf":
                conds.append(f"{x} {'>=' if li else '>'} {a}")
            if c not in ("inf", "+inf"):
                conds.append(f"{x} {'<=' if hi else '<'} {c}")
            parts.append(f"WHEN {' AND '.join(conds)} THEN {b['score']}")
        return f"CASE {' '.join(parts)} ELSE NULL END"
    if "map" in rule:
        default = rule.get("default")
        parts = " ".join(f"WHEN {x} = {q(k)} THEN {v}" for k, v in rule["map"].items())
        return f"CASE WHEN {x} IS NULL THEN NULL {parts} ELSE {default if default is not None else 'NULL'} END"
    return f"CASE WHEN {x} IS NULL THEN NULL WHEN {x} THEN {rule['if_true']} ELSE {rule['if_false']} END"


# Features that describe one kind of customer only (docs/model.md, "applies to"); a rule
# reading one does not apply to the other kind.
APPLIES = {
    f: ["non_natural"] for f in ("legal_form", "ownership_layers", "hidden_shareholders", "existence_days",
                                 "controller_pep_relation", "controller_watchlist_hit")
} | {f: ["natural"] for f in ("age_years", "natural_crossborder_remit_count")}


# Features of the ownership graph (docs/model.md, "Beneficial owners"): this peer reads books
# without one, where rules over them do not apply.
GRAPH = {"bo_count", "bo_identified", "bo_fanout", "bo_pep_relation", "bo_watchlist_hit", "ownership_depth",
         "intermediate_entities", "circular_ownership"}


def e4(s):
    return round(float(s) * 10000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--as-of", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--compare")
    a = ap.parse_args()
    t0 = time.time()
    if os.path.exists(os.path.join(a.data, "ownership.parquet")):
        sys.exit("duckdb_peer: the book holds an ownership graph (ownership.parquet); this peer does not solve "
                 "ownership graphs: give it a book without ownership.parquet and persons.parquet")
    model = tomllib.load(open(a.model, "rb"))
    p = {
        "lookback_months": 12, "large_cash_cny": 50000.0, "near_threshold_ratio": 0.9,
        "large_transfer_non_natural_cny": 2000000.0, "large_transfer_natural_cny": 500000.0,
        "main_counterparty_share": 0.1, "new_customer_days": 365, "home_country": "CN",
    }
    p.update(model.get("features", {}))
    m = model["model"]["m"]
    as_of = dt.date.fromisoformat(a.as_of)
    win_start = add_months(as_of, p["lookback_months"])
    home = q(p["home_country"])
    thr, big_nat, big_non = p["large_cash_cny"], p["large_transfer_natural_cny"], p["large_transfer_non_natural_cny"]
    D = lambda f: q(os.path.join(a.data, f))
    con = duckdb.connect()
    # Every core; row order is not needed until the final ORDER BY, and keeping it costs memory.
    con.execute(f"SET threads = {os.cpu_count()}")
    con.execute("SET preserve_insertion_order = false")

    # Reference tables.
    countries = {}
    for r in csv.DictReader(open(os.path.join(a.reference, "countries.csv"))):
        countries[r["iso2"]] = [int(r["sanctioned"] == "true"), 0, int(r["predicate_crime"]), int(r["offshore"] == "true")]
    fatf = sorted(glob.glob(os.path.join(a.reference, "fatf_lists_*.csv")))[-1]
    for r in csv.DictReader(open(fatf)):
        c = countries.setdefault(r["iso2"], [0, 0, 1, 0])
        c[1] = 2 if r["fatf_status"] == "call_for_action" else 1
    con.execute("CREATE TABLE ref_c(iso2 VARCHAR, sanc INT, fatf INT, pred INT, offs INT)")
    con.executemany("INSERT INTO ref_c VALUES (?, ?, ?, ?, ?)", [[k] + v for k, v in countries.items()])
    con.execute(f"CREATE TABLE ref_r AS SELECT province_code::VARCHAR province_code, predicate_crime::INT pred FROM read_csv({q(os.path.join(a.reference, 'regions.csv'))}, all_varchar=true)")
    con.execute(f"CREATE TABLE ref_i AS SELECT industry_code, risk_level::INT risk, cash_intensity::INT cash FROM read_csv({q(os.path.join(a.reference, 'industries.csv'))}, all_varchar=true)")
    con.execute(f"CREATE TABLE ref_b AS SELECT branch_id, province_code, city_code FROM read_csv({q(os.path.join(a.reference, 'branches.csv'))}, all_varchar=true)")
    risky = [k for k, v in countries.items() if v[0] or v[1]]
    risky_sql = ", ".join(q(r) for r in risky)

    lo = f"TIMESTAMP '{win_start + dt.timedelta(days=1)} 00:00:00'"
    hi = f"TIMESTAMP '{as_of + dt.timedelta(days=1)} 00:00:00'"
    ws, ao = f"DATE '{win_start}'", f"DATE '{as_of}'"
    # The window's transactions, read once (projection and the date filter pushed into the
    # Parquet scan) and decoded into the few columns the features need.
    con.execute(f"""
    CREATE TEMP TABLE t AS
    SELECT customer_id, CAST(ts AS DATE) d, amount, direction = 'out' AS out_dir, cash,
           channel IN ('online', 'mobile') AS online,
           ip_address, ip_country, ip_city, device_id, cross_border,
           counterparty_kind = 'natural' AS cp_nat_k,
           counterparty_kind IN ('non_natural', 'government') AS cp_non_k,
           counterparty_country, related_party, proxy_id
    FROM read_parquet({D('transactions.parquet')}) WHERE ts >= {lo} AND ts < {hi}""")
    t_read = time.time()
    # A null province is read from the city code's first two digits (GB/T 2260).
    con.execute(f"""CREATE TEMP VIEW c AS SELECT * REPLACE (
        coalesce(residence_province, left(residence_city, 2)) AS residence_province,
        coalesce(registration_province, left(registration_city, 2)) AS registration_province,
        coalesce(business_province, left(business_city, 2)) AS business_province)
      FROM read_parquet({D('customers.parquet')})""")
    con.execute(f"CREATE TEMP VIEW a AS SELECT * FROM read_parquet({D('accounts.parquet')})")
    con.execute(f"CREATE TEMP VIEW r AS SELECT * FROM read_parquet({D('reports.parquet')})")
    ay, am, ad = as_of.year, as_of.month, as_of.day
    inst_cities = ", ".join(sorted({q(r[0]) for r in con.execute("SELECT city_code FROM ref_b").fetchall()}))
    inst_provs = ", ".join(sorted({q(r[0]) for r in con.execute("SELECT province_code FROM ref_b").fetchall()}))

    feats = f"""
    -- Amounts are added in whole fen, as riskgrade adds them (exact, whatever the order).
    WITH t_agg AS (
      SELECT customer_id, count(*) txn_count, sum(round(amount * 100)) / 100 txn_amount_total, max(amount) max_single_amount,
        coalesce(sum(round(amount * 100)) FILTER (WHERE cash), 0) / 100 cash_total,
        count(*) FILTER (WHERE cash) cash_count,
        count(*) FILTER (WHERE cash AND amount >= {thr * p['near_threshold_ratio']} AND amount < {thr}) cash_near_threshold_count,
        count(*) FILTER (WHERE online AND ip_country IS NOT NULL AND ip_country <> {home}) offsite_abroad,
        max(amount) FILTER (WHERE online) max_online_amount,
        count(*) FILTER (WHERE cp_nat_k) cp_nat,
        count(*) FILTER (WHERE cp_non_k) cp_non,
        count(*) FILTER (WHERE cp_nat_k AND amount >= {big_non}) cp_nat_big,
        count(*) FILTER (WHERE cp_non_k AND amount >= {big_nat}) cp_non_big,
        count(*) FILTER (WHERE related_party AND amount >= {big_non}) related_party_large_count,
        count(*) FILTER (WHERE cross_border) cross_border_count,
        count(*) FILTER (WHERE cross_border AND counterparty_country IN ({risky_sql})) cross_border_high_risk_count,
        count(*) FILTER (WHERE cross_border AND out_dir) xb_out
      FROM t GROUP BY customer_id),
    cash_days AS (
      SELECT customer_id, count(*) cash_large_days FROM (
        SELECT customer_id, d, sum(round(amount * 100)) / 100 s FROM t WHERE cash GROUP BY 1, 2)
      WHERE s >= {thr} GROUP BY 1),
    cb AS (SELECT c.customer_id, b.city_code bcity FROM c LEFT JOIN ref_b b USING (branch_id)),
    offsite_city AS (
      SELECT t.customer_id, count(*) offsite_city FROM t JOIN cb USING (customer_id)
      WHERE online AND ip_country = {home} AND ip_city IS NOT NULL AND (cb.bcity IS NULL OR ip_city <> cb.bcity)
      GROUP BY 1),
    ip_pairs AS (SELECT DISTINCT ip_address k, customer_id FROM t WHERE online AND ip_address IS NOT NULL),
    ip_n AS (SELECT k, count(*) n FROM ip_pairs GROUP BY k),
    shared_ip AS (SELECT customer_id, max(n) shared_ip_customers FROM ip_pairs JOIN ip_n USING (k) GROUP BY 1),
    dev_pairs AS (SELECT DISTINCT device_id k, customer_id FROM t WHERE online AND device_id IS NOT NULL),
    dev_n AS (SELECT k, count(*) n FROM dev_pairs GROUP BY k),
    shared_dev AS (SELECT customer_id, max(n) shared_device_customers FROM dev_pairs JOIN dev_n USING (k) GROUP BY 1),
    proxy_pairs AS (
      SELECT DISTINCT proxy, customer_id FROM (
        SELECT onboarding_proxy_id proxy, customer_id FROM c
        UNION ALL SELECT opened_by_proxy_id, customer_id FROM a
        UNION ALL SELECT proxy_id, customer_id FROM t) WHERE proxy IS NOT NULL),
    proxy_n AS (SELECT proxy, count(*) n FROM proxy_pairs GROUP BY 1),
    proxy_customers AS (SELECT customer_id, max(n) proxy_customers FROM proxy_pairs JOIN proxy_n USING (proxy) GROUP BY 1),
    proxy_acc_n AS (SELECT opened_by_proxy_id proxy, count(*) n FROM a WHERE opened_by_proxy_id IS NOT NULL GROUP BY 1),
    proxy_accounts AS (
      SELECT customer_id, max(n) proxy_accounts_opened FROM
        (SELECT DISTINCT opened_by_proxy_id proxy, customer_id FROM a WHERE opened_by_proxy_id IS NOT NULL)
        JOIN proxy_acc_n USING (proxy) GROUP BY 1),
    phone_n AS (SELECT phone_hash, count(*) n FROM c WHERE phone_hash IS NOT NULL GROUP BY 1),
    contact_n AS (SELECT emergency_contact_hash, count(*) n FROM c WHERE emergency_contact_hash IS NOT NULL GROUP BY 1),
    acc_changes AS (
      SELECT customer_id, count(*) accounts_opened_closed FROM a
      WHERE (opened_date > {ws} AND opened_date <= {ao}) OR (closed_date > {ws} AND closed_date <= {ao}) GROUP BY 1),
    reps AS (
      SELECT customer_id,
        count(*) FILTER (WHERE report_type = 'suspicious') str_count,
        count(*) FILTER (WHERE report_type = 'large_value' AND report_date > {ws} AND report_date <= {ao}) large_value_report_count,
        count(*) FILTER (WHERE report_type = 'suspicious' AND proxy_involved) proxy_str_count
      FROM r WHERE report_date <= {ao} GROUP BY 1),
    cp_main AS (
      SELECT x.customer_id, x.cc FROM (
        SELECT customer_id, counterparty_country cc, sum(round(amount * 100)) / 100 amt FROM t
        WHERE counterparty_country IS NOT NULL AND counterparty_country <> {home} GROUP BY 1, 2) x
      JOIN t_agg USING (customer_id) WHERE x.amt >= t_agg.txn_amount_total * {p['main_counterparty_share']}),
    all_countries AS (
      SELECT customer_id, unnest([nationality, residence_country, registration_country, business_country, bo_country]) cc FROM c
      UNION ALL SELECT customer_id, cc FROM cp_main),
    country_risk AS (
      SELECT customer_id,
        max(CASE WHEN cc IS NULL THEN NULL ELSE coalesce(sanc, 0) END) sanc,
        max(CASE WHEN cc IS NULL THEN NULL ELSE coalesce(fatf, 0) END) fatf,
        max(CASE WHEN cc IS NULL THEN NULL ELSE coalesce(pred, 1) END) pred,
        max(CASE WHEN cc IS NULL THEN NULL ELSE coalesce(offs, 0) END) offs
      FROM all_countries LEFT JOIN ref_c ON cc = iso2 GROUP BY 1)
    SELECT c.customer_id, c.institution_id, c.branch_id, c.kind, info_openness, onboarding_channel, id_doc_type,
      coalesce(str_count, 0) str_count, coalesce(large_value_report_count, 0) large_value_report_count,
      legal_form, ownership_layers, hidden_shareholders, alert_level,
      {ay} - year(birth_date) - CASE WHEN month(birth_date) > {am} OR (month(birth_date) = {am} AND day(birth_date) > {ad}) THEN 1 ELSE 0 END age_years,
      {ao} - founding_date existence_days,
      {ao} - relationship_start tenure_days,
      cr.sanc > 0 country_sanctioned, cr.fatf country_fatf_level, cr.pred country_predicate_level, cr.offs > 0 country_offshore,
      greatest(CASE WHEN c.residence_province IS NULL THEN NULL ELSE coalesce(r1.pred, 1) END,
               CASE WHEN c.registration_province IS NULL THEN NULL ELSE coalesce(r2.pred, 1) END,
               CASE WHEN c.business_province IS NULL THEN NULL ELSE coalesce(r3.pred, 1) END) region_predicate_level,
      CASE WHEN n_places = 0 THEN 'no_address' WHEN n_local = n_places THEN 'local' WHEN n_local > 0 THEN 'partly_local'
           WHEN n_local_prov > 0 THEN 'other_city' ELSE 'other_province' END address_locality,
      coalesce(txn_count, 0) txn_count, coalesce(txn_amount_total, 0) txn_amount_total, coalesce(max_single_amount, 0) max_single_amount,
      coalesce(cash_total, 0) cash_total, coalesce(cash_count, 0) cash_count, coalesce(cash_large_days, 0) cash_large_days,
      coalesce(cash_near_threshold_count, 0) cash_near_threshold_count,
      coalesce(shared_device_customers, 0) shared_device_customers,
      coalesce(offsite_abroad, 0) + coalesce(offsite_city, 0) offsite_online_count,
      coalesce(shared_ip_customers, 0) shared_ip_customers,
      coalesce(max_online_amount, 0) max_online_amount,
      CASE WHEN c.kind = 'natural' THEN coalesce(cp_non, 0) ELSE coalesce(cp_nat, 0) END corp_personal_count,
      CASE WHEN c.kind = 'natural' THEN coalesce(cp_non_big, 0) ELSE coalesce(cp_nat_big, 0) END corp_personal_large_count,
      coalesce(related_party_large_count, 0) related_party_large_count,
      coalesce(cross_border_count, 0) cross_border_count, coalesce(cross_border_high_risk_count, 0) cross_border_high_risk_count,
      coalesce(proxy_customers, 0) proxy_customers, coalesce(proxy_str_count, 0) proxy_str_count,
      coalesce(proxy_accounts_opened, 0) proxy_accounts_opened,
      greatest(coalesce(phone_n.n, 0), coalesce(contact_n.n, 0)) shared_contact_customers,
      coalesce(accounts_opened_closed, 0) accounts_opened_closed,
      CASE WHEN c.kind = 'natural' THEN coalesce(xb_out, 0) ELSE 0 END natural_crossborder_remit_count,
      industry_code,
      CASE WHEN industry_code IS NULL THEN NULL ELSE coalesce(ri.risk, 1) END industry_risk,
      CASE WHEN industry_code IS NULL THEN NULL ELSE coalesce(ri.cash, 1) END industry_cash_intensity,
      pep_relation, controller_pep_relation, watchlist_hit, controller_watchlist_hit, refuses_cdd, non_resident,
      id_issuing_country <> {home} foreign_id_document, correspondent_relation, trust_relation,
      onboarding_proxy_id IS NOT NULL onboarding_proxy, net_financial_assets, annual_life_premium, noncash_single_premium, walk_in, id_expiry_date
    FROM (SELECT *,
        (CASE WHEN residence_city IS NOT NULL OR residence_province IS NOT NULL THEN 1 ELSE 0 END
         + CASE WHEN registration_city IS NOT NULL OR registration_province IS NOT NULL THEN 1 ELSE 0 END
         + CASE WHEN business_city IS NOT NULL OR business_province IS NOT NULL THEN 1 ELSE 0 END) n_places,
        (coalesce(residence_city IN ({inst_cities}), FALSE)::INT + coalesce(registration_city IN ({inst_cities}), FALSE)::INT
         + coalesce(business_city IN ({inst_cities}), FALSE)::INT) n_local,
        (coalesce(residence_province IN ({inst_provs}), FALSE)::INT + coalesce(registration_province IN ({inst_provs}), FALSE)::INT
         + coalesce(business_province IN ({inst_provs}), FALSE)::INT) n_local_prov
      FROM c) c
    LEFT JOIN t_agg USING (customer_id) LEFT JOIN cash_days USING (customer_id) LEFT JOIN offsite_city USING (customer_id)
    LEFT JOIN shared_ip USING (customer_id) LEFT JOIN shared_dev USING (customer_id)
    LEFT JOIN proxy_customers USING (customer_id) LEFT JOIN proxy_accounts USING (customer_id)
    LEFT JOIN acc_changes USING (customer_id) LEFT JOIN reps USING (customer_id)
    LEFT JOIN country_risk cr USING (customer_id) LEFT JOIN ref_i ri USING (industry_code)
    LEFT JOIN ref_r r1 ON r1.province_code = c.residence_province
    LEFT JOIN ref_r r2 ON r2.province_code = c.registration_province
    LEFT JOIN ref_r r3 ON r3.province_code = c.business_province
    LEFT JOIN phone_n ON phone_n.phone_hash = c.phone_hash
    LEFT JOIN contact_n ON contact_n.emergency_contact_hash = c.emergency_contact_hash
    """
    if os.environ.get("PEER_PROFILE"):
        con.execute("PRAGMA enable_profiling = 'query_tree'")
        con.execute(f"PRAGMA profiling_output = {q(os.environ['PEER_PROFILE'])}")
    con.execute(f"CREATE TEMP TABLE f AS {feats}")
    if os.environ.get("PEER_PROFILE"):
        con.execute("PRAGMA disable_profiling")
    t_feat = time.time()

    # Scores, totals, grades, exceptions.
    segs = model["segments"]
    seg_case = "CASE " + " ".join(
        f"WHEN kind = {q(s['kind'])}"
        + ("" if "tenure" not in s else f" AND tenure_days {'<=' if s['tenure'] == 'new' else '>'} {p['new_customer_days']}")
        + f" THEN {q(s['name'])}" for s in segs) + " END"
    cols, contrib = [], []
    for sid, sub in model["subitems"].items():
        adopting = [s["name"] for s in segs if sid in s["weights"]]
        rules = []
        for r in sub["rules"]:
            if r["feature"] in GRAPH:
                continue  # a book without an ownership graph: rules over its features do not apply
            kinds = r.get("kinds", APPLIES.get(r["feature"], ["natural", "non_natural"]))
            sc = f"coalesce({rule_sql(r)}, {sub['missing_score']})"
            if set(kinds) != {"natural", "non_natural"}:
                sc = f"CASE WHEN kind IN ({', '.join(q(k) for k in kinds)}) THEN {sc} END"
            rules.append(sc)
        score = rules[0] if len(rules) == 1 else f"greatest({', '.join(rules)})"
        in_seg = f"segment IN ({', '.join(q(n) for n in adopting)})" if adopting else "FALSE"
        cols.append(f"CASE WHEN {in_seg} THEN {score} END AS {sid}")
        w = "CASE " + " ".join(f"WHEN segment = {q(s['name'])} THEN {round(s['weights'][sid] * 100)}" for s in segs if sid in s["weights"]) + " ELSE 0 END"
        contrib.append(f"coalesce({sid}, 0) * ({w})")
    reg = model.get("regional", {}).get("coefficients", {})
    coef = "CASE " + " ".join(f"WHEN branch_id = {q(k)} THEN {e4(v)}" for k, v in reg.items()) + " ELSE 10000 END" if reg else "10000"
    cap = 100 * 100 * m * 10000
    grades = []
    for g in model["grades"]:
        lo_s = g["interval"].strip()[1:].split(",")[0].strip()
        up = g["interval"].strip()[:-1].split(",")[1].strip()
        grades.append((e4(up), g["interval"].strip()[0] == "[", lo_s, g["name"]))
    grades.sort(key=lambda x: -x[0])
    grade_case = "CASE " + " ".join(
        f"WHEN adj {'>=' if inc else '>'} {e4(lo) * 100 * m} THEN {q(name)}" for _, inc, lo, name in grades[:-1]
    ) + f" ELSE {q(grades[-1][3])} END"
    dh = model.get("exceptions", {}).get("direct_highest", {})
    enabled = dh.get("enabled", ["xh1", "xh2", "xh3", "xh4", "xh5"])
    # The texts in force on the as-of date ([rulebook]); L-CDD33 adds former foreign PEPs to XH2/XH3.
    texts = model.get("rulebook", {}).get("texts", [])
    cdd = any(t["id"] == "L-CDD" and dt.date.fromisoformat(str(t["effective"])) <= as_of for t in texts)
    kinds = dh.get("pep_kinds", ["foreign_pep", "relative", "close_associate"] + (["former_foreign_pep"] if cdd else []))
    pep = lambda c: f"coalesce({c} IN ({', '.join(q(k) for k in kinds)}), FALSE)"
    xh_sql = {
        "xh1": "coalesce(watchlist_hit, FALSE)", "xh2": pep("pep_relation"),
        "xh3": f"({pep('controller_pep_relation')} OR coalesce(controller_watchlist_hit, FALSE))",
        "xh4": f"coalesce(str_count >= {dh.get('str_threshold', 2)}, FALSE)", "xh5": "coalesce(refuses_cdd, FALSE)",
    }
    xh = [xh_sql[e] for e in enabled] + [expr_sql(c["when"]) for c in dh.get("custom", [])]
    any_xh = " OR ".join(xh) if xh else "FALSE"
    dl = model.get("exceptions", {}).get("direct_low", {})
    if dl.get("enabled"):
        rate = dl["usd_cny_rate"]
        g = lambda k, d: dl.get(k, d)
        xl = [
            f"(coalesce(net_financial_assets > CASE WHEN kind = 'natural' THEN {g('net_assets_natural_cny', 200000)} ELSE {g('net_assets_non_natural_cny', 500000)} END, TRUE)"
            f" OR coalesce(annual_life_premium, 0) > {g('life_premium_cny', 10000)} OR coalesce(annual_life_premium, 0) > {g('life_premium_usd', 1000) * rate}"
            f" OR coalesce(noncash_single_premium, 0) > {g('single_premium_cny', 200000)} OR coalesce(noncash_single_premium, 0) > {g('single_premium_usd', 20000) * rate})",
            "(coalesce(correspondent_relation, TRUE) OR coalesce(trust_relation, TRUE))",
            "(coalesce(non_resident, TRUE) OR coalesce(foreign_id_document, TRUE))",
            "coalesce(str_count >= 1, TRUE)", "coalesce(onboarding_proxy, TRUE)", "coalesce(refuses_cdd, TRUE)",
        ]
        # L-CDD29: never for PEPs, listed persons, FATF-listed countries, expired documents or
        # investigations (each on when L-CDD is in force, unless the model sets it).
        dq = dl.get("disqualify", {})
        on = lambda k: dq.get(k, cdd)
        xl += [sql for k, sql in [
            ("pep", "(coalesce(pep_relation <> 'none', TRUE) OR coalesce(controller_pep_relation <> 'none', FALSE))"),
            ("watchlist", "(coalesce(watchlist_hit, TRUE) OR coalesce(controller_watchlist_hit, FALSE))"),
            ("fatf_country", "coalesce(country_fatf_level >= 1, FALSE)"),
            ("id_expired", f"coalesce(id_expiry_date < {ao}, FALSE)"),
            ("investigation", "coalesce(alert_level >= 2, FALSE)"),
        ] if on(k)]
        direct_low = f"({expr_sql(dl['eligible'])} AND NOT ({' OR '.join(xl)}))"
    else:
        direct_low = "FALSE"
    highest, lowest = grades[0][3], grades[-1][3]
    con.execute(f"""
    COPY (
      SELECT customer_id, segment, weighted_sum, adj, scored_grade,
        {', '.join(c.split(' AS ')[-1] for c in cols) + ',' if os.environ.get('PEER_SUBITEMS') else ''}
        CASE WHEN xh THEN {q(highest)} WHEN dlow THEN {q(lowest)} ELSE scored_grade END computed_grade
      FROM (
        SELECT *, {grade_case} scored_grade FROM (
          SELECT *, least(weighted_sum * ({coef}), {cap}) adj FROM (
            SELECT *, {' + '.join(contrib)} weighted_sum FROM (
              SELECT customer_id, branch_id, segment, xh, dlow, {', '.join(cols)} FROM (
                SELECT *, {seg_case} segment, ({any_xh}) xh, {direct_low} dlow FROM f)))))
      ORDER BY customer_id
    ) TO {q(a.out)} (FORMAT parquet)""")
    t_end = time.time()
    print(f"duckdb peer: window transactions {t_read - t0:.2f}s, features {t_feat - t_read:.2f}s, scores and grades {t_end - t_feat:.2f}s, total {t_end - t0:.2f}s")

    if a.compare:
        diff = con.execute(f"""
          SELECT count(*) FILTER (WHERE p.computed_grade IS DISTINCT FROM r.computed_grade),
                 count(*) FILTER (WHERE p.weighted_sum IS DISTINCT FROM r.weighted_sum), count(*),
                 (SELECT count(*) FROM read_parquet({q(a.compare)}))
          FROM read_parquet({q(a.out)}) p FULL JOIN read_parquet({q(a.compare)}) r USING (customer_id)""").fetchone()
        print(f"compare with riskgrade: {diff[2]} customers, {diff[0]} computed grades differ, {diff[1]} weighted sums differ")
        if diff[0] or diff[1] or diff[2] != diff[3]:
            ex = con.execute(f"""SELECT customer_id, p.weighted_sum, r.weighted_sum, p.computed_grade, r.computed_grade
              FROM read_parquet({q(a.out)}) p JOIN read_parquet({q(a.compare)}) r USING (customer_id)
              WHERE p.weighted_sum <> r.weighted_sum OR p.computed_grade <> r.computed_grade LIMIT 5""").fetchall()
            print("first differences:", ex)
            sys.exit(1)


if __name__ == "__main__":
    main()
