// Hypothesis tests and intervals for A/B results, computed from per-variant sufficient statistics
// (n, mean, variance): never from per-user rows. The distributions come from stdlib, a maintained
// library; nothing here evaluates a special function by hand.
import chiSquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import studentTCdf from '@stdlib/stats-base-dists-t-cdf';
import studentTQuantile from '@stdlib/stats-base-dists-t-quantile';

/** A variant's metric: its size, mean and sample variance (n − 1 in the denominator). */
export interface Summary {
  n: number;
  mean: number;
  variance: number;
}

export interface Interval {
  low: number;
  high: number;
}

export interface WelchResult {
  t: number;
  degreesOfFreedom: number;
  pValue: number;
  /** Confidence interval of mean(a) − mean(b), on Student's t with Welch's degrees of freedom. */
  interval: Interval;
}

/** Welch's unequal-variances t-test of mean(a) − mean(b) = 0, two-sided. */
export function welchTTest(a: Summary, b: Summary, confidence = 0.95): WelchResult {
  const va = a.variance / a.n;
  const vb = b.variance / b.n;
  const standardError = Math.sqrt(va + vb);
  const difference = a.mean - b.mean;
  const t = difference / standardError;
  const degreesOfFreedom = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  const pValue = 2 * (1 - studentTCdf(Math.abs(t), degreesOfFreedom));
  const margin = studentTQuantile(1 - (1 - confidence) / 2, degreesOfFreedom) * standardError;
  return {
    t,
    degreesOfFreedom,
    pValue,
    interval: { low: difference - margin, high: difference + margin },
  };
}

export interface ProportionsResult {
  z: number;
  pValue: number;
  /** Wald interval of p(a) − p(b), unpooled standard error. */
  interval: Interval;
}

/**
 * Two-proportion z-test of p(a) = p(b), two-sided: the pooled standard error for the test (the
 * null says the proportions are equal), the unpooled one for the interval.
 */
export function twoProportionZTest(
  a: { successes: number; n: number },
  b: { successes: number; n: number },
  confidence = 0.95,
): ProportionsResult {
  const pa = a.successes / a.n;
  const pb = b.successes / b.n;
  const pooled = (a.successes + b.successes) / (a.n + b.n);
  const z = (pa - pb) / Math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n));
  const pValue = 2 * (1 - normalCdf(Math.abs(z), 0, 1));
  const margin = zQuantile(confidence) * Math.sqrt((pa * (1 - pa)) / a.n + (pb * (1 - pb)) / b.n);
  return { z, pValue, interval: { low: pa - pb - margin, high: pa - pb + margin } };
}

export interface ChiSquareResult {
  statistic: number;
  degreesOfFreedom: number;
  pValue: number;
}

/** Pearson's chi-square goodness of fit of observed counts to expected shares (rescaled to 1). */
export function chiSquareGoodnessOfFit(observed: number[], expectedShares: number[]): ChiSquareResult {
  if (observed.length !== expectedShares.length || observed.length < 2)
    throw new RangeError('chi-square goodness of fit needs two or more categories, one share for each');
  const total = observed.reduce((sum, count) => sum + count, 0);
  const shareSum = expectedShares.reduce((sum, share) => sum + share, 0);
  let statistic = 0;
  observed.forEach((count, index) => {
    const expected = (total * (expectedShares[index] ?? 0)) / shareSum;
    statistic += (count - expected) ** 2 / expected;
  });
  const degreesOfFreedom = observed.length - 1;
  return { statistic, degreesOfFreedom, pValue: 1 - chiSquareCdf(statistic, degreesOfFreedom) };
}

export interface LiftResult {
  absolute: number;
  relative: number;
  absoluteInterval: Interval;
  /** Delta method on mean(t)/mean(c) − 1, the two means independent. */
  relativeInterval: Interval;
  pValue: number;
}

/**
 * Treatment against control: the absolute and relative lift with normal-approximation intervals.
 * The p-value is the two-proportion z-test's for a binary metric, Welch's otherwise.
 */
export function lift(control: Summary, treatment: Summary, binary: boolean, confidence = 0.95): LiftResult {
  const absolute = treatment.mean - control.mean;
  const relative = treatment.mean / control.mean - 1;
  const z = zQuantile(confidence);
  const varianceOfMean = (summary: Summary) => summary.variance / summary.n;
  const absoluteError = Math.sqrt(varianceOfMean(treatment) + varianceOfMean(control));
  // Var(T/C) ≈ Var(T)/C² + T² Var(C)/C⁴.
  const relativeError = Math.sqrt(
    varianceOfMean(treatment) / control.mean ** 2 +
      (treatment.mean ** 2 * varianceOfMean(control)) / control.mean ** 4,
  );
  const pValue = binary
    ? twoProportionZTest(
        { successes: treatment.mean * treatment.n, n: treatment.n },
        { successes: control.mean * control.n, n: control.n },
        confidence,
      ).pValue
    : welchTTest(treatment, control, confidence).pValue;
  return {
    absolute,
    relative,
    absoluteInterval: { low: absolute - z * absoluteError, high: absolute + z * absoluteError },
    relativeInterval: { low: relative - z * relativeError, high: relative + z * relativeError },
    pValue,
  };
}

/** Sufficient statistics for CUPED: the metric y and its pre-exposure covariate x, per variant. */
export interface CovariateSummary extends Summary {
  covariateMean: number;
  covariateVariance: number;
  /** Sample covariance of the metric and the covariate. */
  covariance: number;
}

/**
 * CUPED (Deng et al., 2013): y − θ(x − mean x) with θ = cov(x, y) / var(x) pooled over both
 * variants. The adjusted means keep their expectation; their variance shrinks by the share of the
 * metric's variance the pre-period explains.
 */
export function cupedAdjust(control: CovariateSummary, treatment: CovariateSummary): [Summary, Summary] {
  const pooledCovariance =
    ((control.n - 1) * control.covariance + (treatment.n - 1) * treatment.covariance) /
    (control.n + treatment.n - 2);
  const pooledCovariateVariance =
    ((control.n - 1) * control.covariateVariance + (treatment.n - 1) * treatment.covariateVariance) /
    (control.n + treatment.n - 2);
  const theta = pooledCovariateVariance > 0 ? pooledCovariance / pooledCovariateVariance : 0;
  const overallCovariateMean =
    (control.n * control.covariateMean + treatment.n * treatment.covariateMean) / (control.n + treatment.n);
  const adjust = (summary: CovariateSummary): Summary => ({
    n: summary.n,
    mean: summary.mean - theta * (summary.covariateMean - overallCovariateMean),
    variance: Math.max(
      0,
      summary.variance + theta ** 2 * summary.covariateVariance - 2 * theta * summary.covariance,
    ),
  });
  return [adjust(control), adjust(treatment)];
}

/**
 * Always-valid p-value of the mixture sequential probability ratio test (Johari, Pekelis and
 * Walsh, 2017) for the difference of means, with a normal mixing distribution of variance τ²:
 * it may be read at any time without inflating the false-positive rate.
 */
export function msprtPValue(control: Summary, treatment: Summary, mixingVariance: number): number {
  // Per-pair variance of the difference, on the smaller arm's size.
  const n = Math.min(control.n, treatment.n);
  const variance = control.variance + treatment.variance;
  if (n === 0 || variance === 0) return 1;
  const difference = treatment.mean - control.mean;
  const likelihoodRatio =
    Math.sqrt(variance / (variance + n * mixingVariance)) *
    Math.exp((n ** 2 * mixingVariance * difference ** 2) / (2 * variance * (variance + n * mixingVariance)));
  return Math.min(1, 1 / likelihoodRatio);
}

export type Decision = 'implement' | 'reject' | 'continue_testing';

/**
 * Seed 000's vocabulary: implement a significant improvement, reject a significant harm, keep
 * testing otherwise; a sample-ratio mismatch means the data cannot be trusted, so keep testing.
 */
export function decide(pValue: number, absoluteLift: number, srmFlag: boolean, alpha = 0.05): Decision {
  if (srmFlag || pValue >= alpha) return 'continue_testing';
  return absoluteLift > 0 ? 'implement' : 'reject';
}

function zQuantile(confidence: number): number {
  return normalQuantile(1 - (1 - confidence) / 2, 0, 1);
}
