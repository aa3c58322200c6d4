//! The statistics of `monitor`, on plain slices: population stability index, decile edges,
//! AUC and KS. docs/monitor.md states each formula.

/// The share that replaces a bin's share of 0 in the population stability index (0.01 %): the
/// logarithm of 0 is undefined, and a bin empty on one side still counts.
pub const PSI_FLOOR: f64 = 1e-4;

/// Population stability index of `actual` against `expected` (counts per bin, same bins):
/// Σ (aᵢ − eᵢ) · ln(aᵢ / eᵢ) over the bins, aᵢ and eᵢ each bin's share of its side, a share of
/// 0 taken as [`PSI_FLOOR`]. `None` when a side is empty.
pub fn psi(expected: &[u64], actual: &[u64]) -> Option<f64> {
    let (te, ta) = (
        expected.iter().sum::<u64>() as f64,
        actual.iter().sum::<u64>() as f64,
    );
    if te == 0.0 || ta == 0.0 {
        return None;
    }
    Some(
        expected
            .iter()
            .zip(actual)
            .map(|(e, a)| {
                let e = (*e as f64 / te).max(PSI_FLOOR);
                let a = (*a as f64 / ta).max(PSI_FLOOR);
                (a - e) * (a / e).ln()
            })
            .sum(),
    )
}

/// The decile edges of `values`: the distinct values at the 10th, 20th … 90th percentile (the
/// value at position ⌈k·n/10⌉ of the sorted values, k = 1…9). Ties merge edges, so there may
/// be fewer than nine (fewer than ten bins).
pub fn decile_edges(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return Vec::new();
    }
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    let mut edges: Vec<f64> = (1..10).map(|k| v[(k * n).div_ceil(10) - 1]).collect();
    edges.dedup();
    edges
}

/// Counts of `values` per bin of `edges`: bin i holds the values above edge i−1 and at most
/// edge i (the first bin everything at most the first edge, the last everything above the last).
pub fn bin_counts(values: &[f64], edges: &[f64]) -> Vec<u64> {
    let mut counts = vec![0u64; edges.len() + 1];
    for x in values.iter().filter(|x| !x.is_nan()) {
        counts[edges.partition_point(|e| e < x)] += 1;
    }
    counts
}

/// The customers' positions in ascending score order, with the counts of positives and
/// negatives; `None` without positives or without negatives.
fn ranked(scores: &[f64], positive: &[bool]) -> Option<(Vec<usize>, usize, usize)> {
    let p = positive.iter().filter(|x| **x).count();
    let n = positive.len() - p;
    if p == 0 || n == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    Some((order, p, n))
}

/// Area under the ROC curve of `scores` for the `positive` customers: the probability that a
/// positive scores above a negative, a tie counting one half (the Mann–Whitney statistic over
/// P·N, with average ranks). `None` without positives or without negatives.
pub fn auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let (order, p, n) = ranked(scores, positive)?;
    // Ranks from 1, ties given the average of their positions.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += avg * order[i..=j].iter().filter(|k| positive[**k]).count() as f64;
        i = j + 1;
    }
    let (p, n) = (p as f64, n as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Kolmogorov–Smirnov statistic of `scores` between positives and negatives: the largest gap
/// between the two empirical distribution functions, taken after each distinct score.
pub fn ks(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let (order, p, n) = ranked(scores, positive)?;
    let (mut cp, mut cn, mut best) = (0usize, 0usize, 0.0f64);
    for (k, &i) in order.iter().enumerate() {
        if positive[i] {
            cp += 1;
        } else {
            cn += 1;
        }
        let last_of_value = order
            .get(k + 1)
            .is_none_or(|&next| scores[next] != scores[i]);
        if last_of_value {
            best = best.max((cp as f64 / p as f64 - cn as f64 / n as f64).abs());
        }
    }
    Some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_by_hand() {
        // Shares 0.5/0.5 against 0.25/0.75:
        // (0.25-0.5)·ln(0.5) + (0.75-0.5)·ln(1.5) = 0.25·(ln 2 + ln 1.5) = 0.25·ln 3.
        let v = psi(&[50, 50], &[25, 75]).unwrap();
        assert!((v - 0.25 * 3f64.ln()).abs() < 1e-12, "{v}");
        // An empty bin on one side counts with the floor: (0.0001-0.5)·ln(0.0001/0.5) + ….
        let v = psi(&[1, 1], &[0, 2]).unwrap();
        let want = (1e-4 - 0.5) * (1e-4f64 / 0.5).ln() + (1.0 - 0.5) * (1.0f64 / 0.5).ln();
        assert!((v - want).abs() < 1e-12);
        assert_eq!(psi(&[0, 0], &[1, 1]), None);
        assert_eq!(psi(&[3, 7], &[30, 70]), Some(0.0));
    }

    #[test]
    fn deciles_and_bins_by_hand() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        // Positions 2, 4, … 18 of 1…20.
        assert_eq!(
            decile_edges(&v),
            vec![2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0]
        );
        assert_eq!(
            bin_counts(&[1.0, 2.0, 2.5, 18.0, 19.0], &[2.0, 18.0]),
            vec![2, 2, 1]
        );
        // Ties merge edges: 8 of 10 values equal.
        let t = [1.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 9.0];
        assert_eq!(decile_edges(&t), vec![1.0, 5.0]);
    }

    #[test]
    fn auc_and_ks_by_hand() {
        // Positives 3 and 5, negatives 1, 3, 4: pairs (3>1)1 (3=3)½ (3<4)0 (5>all)3 → 4.5/6.
        let s = [3.0, 5.0, 1.0, 3.0, 4.0];
        let p = [true, true, false, false, false];
        assert!((auc(&s, &p).unwrap() - 0.75).abs() < 1e-12);
        // ECDFs after 1: P 0, N 1/3; after 3: P 1/2, N 2/3; after 4: P 1/2, N 1; after 5: 1, 1.
        assert!((ks(&s, &p).unwrap() - 0.5).abs() < 1e-12);
        // Scores unrelated to the label: all equal → 0.5 and 0.
        assert_eq!(auc(&[2.0; 4], &[true, false, true, false]), Some(0.5));
        assert_eq!(ks(&[2.0; 4], &[true, false, true, false]), Some(0.0));
        // Perfect separation.
        assert_eq!(auc(&[9.0, 1.0], &[true, false]), Some(1.0));
        assert_eq!(auc(&[1.0], &[true]), None);
    }
}
