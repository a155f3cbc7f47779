// Hypothesis tests and intervals for A/B results, computed from per-variant sufficient statistics
// (n, mean, variance): never from per-user rows. The distributions come from stdlib, a maintained
// library; nothing here evaluates a special function by hand.
import chiSquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import studentTCdf from '@stdlib/stats-base-dists-t-cdf';
import studentTQuantile from '@stdlib/stats-base-dists-t-quantile';
import { InvariantError } from '../../errors/index.ts';

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
    throw new InvariantError('chi-square goodness of fit needs two or more categories, one share for each');
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
  /** Var(relative lift) by the delta method: what the relative test and its interval stand on. */
  relativeVariance: number;
  /**
   * Two-sided p-value of the relative lift's z-test (relative / its delta-method standard error):
   * the same test as `relativeInterval`, so p < 1 − confidence exactly when the interval excludes 0.
   */
  pValue: number;
}

/**
 * Treatment against control: the absolute and relative lift with normal-approximation intervals,
 * and the p-value of the relative test those intervals come from (GrowthBook's default frequentist
 * test). Welch's and the two-proportion z-test stay available for the absolute difference, but a
 * p-value shown beside the relative interval must be that interval's own.
 */
export function lift(control: Summary, treatment: Summary, confidence = 0.95): LiftResult {
  const absolute = treatment.mean - control.mean;
  const relative = treatment.mean / control.mean - 1;
  const z = zQuantile(confidence);
  const varianceOfMean = (summary: Summary) => summary.variance / summary.n;
  const absoluteError = Math.sqrt(varianceOfMean(treatment) + varianceOfMean(control));
  // Var(T/C) ≈ Var(T)/C² + T² Var(C)/C⁴.
  const relativeVariance =
    varianceOfMean(treatment) / control.mean ** 2 +
    (treatment.mean ** 2 * varianceOfMean(control)) / control.mean ** 4;
  const relativeError = Math.sqrt(relativeVariance);
  return {
    absolute,
    relative,
    absoluteInterval: { low: absolute - z * absoluteError, high: absolute + z * absoluteError },
    relativeInterval: { low: relative - z * relativeError, high: relative + z * relativeError },
    relativeVariance,
    pValue: zTestPValue(relative, relativeVariance),
  };
}

/** Two-sided p-value of estimate / √variance against the standard normal. */
export function zTestPValue(estimate: number, variance: number): number {
  if (variance <= 0) return estimate === 0 ? 1 : 0;
  return 2 * (1 - normalCdf(Math.abs(estimate) / Math.sqrt(variance), 0, 1));
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

export interface SequentialResult {
  /** Always-valid p-value: may be read after every new day without inflating false positives. */
  pValue: number;
  /** The confidence sequence at level 1 − alpha: the estimates the same test does not reject. */
  interval: Interval;
}

/**
 * The mixture sequential probability ratio test (Johari, Pekelis and Walsh, 2017) for an
 * asymptotically normal estimate with the given variance, mixing over effects N(0, τ²). Its
 * likelihood ratio against θ is Λ(θ) = √(V/(V+τ²)) · exp(τ²(est − θ)² / (2V(V+τ²))); the
 * p-value is min(1, 1/Λ(0)) and the interval every θ with Λ(θ) < 1/alpha, so the interval
 * excludes 0 exactly when the p-value is below alpha.
 */
export function msprt(
  estimate: number,
  variance: number,
  mixingVariance: number,
  alpha = 0.05,
): SequentialResult {
  if (!(variance > 0) || !(mixingVariance > 0))
    return { pValue: 1, interval: { low: -Infinity, high: Infinity } };
  const total = variance + mixingVariance;
  const logRatio =
    0.5 * Math.log(variance / total) + (mixingVariance * estimate ** 2) / (2 * variance * total);
  const halfWidth = Math.sqrt(
    ((2 * variance * total) / mixingVariance) * (Math.log(1 / alpha) + 0.5 * Math.log(total / variance)),
  );
  return {
    pValue: Math.min(1, Math.exp(-logRatio)),
    interval: { low: estimate - halfWidth, high: estimate + halfWidth },
  };
}

/**
 * mSPRT on the difference of means, with per-pair variance on the smaller arm's size (the
 * difference's variance is (σc² + σt²)/n) and mixing variance τ² on that difference.
 */
export function msprtPValue(control: Summary, treatment: Summary, mixingVariance: number): number {
  const n = Math.min(control.n, treatment.n);
  const variance = control.variance + treatment.variance;
  if (n === 0 || variance === 0) return 1;
  return msprt(treatment.mean - control.mean, variance / n, mixingVariance).pValue;
}

/**
 * Holm's step-down adjustment (Holm, 1979): controls the family-wise error rate when several
 * metrics of one comparison are read at once. Adjusted p-values, in the input's order.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const order = pValues.map((p, index) => ({ p, index })).sort((a, b) => a.p - b.p);
  const adjusted = new Array<number>(pValues.length);
  let running = 0;
  order.forEach(({ p, index }, rank) => {
    running = Math.max(running, Math.min(1, (pValues.length - rank) * p));
    adjusted[index] = running;
  });
  return adjusted;
}

/**
 * Users still needed, over both arms at their current split, for a fixed-horizon test at `alpha`
 * with the given power to detect the observed relative effect: the estimate's variance shrinks as
 * 1/n, so the sample must grow by ((z₁₋α/₂ + z_power)² · V / effect²). 0 once reached; null when
 * no effect was observed (no finite sample detects it).
 */
export function usersStillNeeded(
  relative: number,
  relativeVariance: number,
  usersSoFar: number,
  alpha = 0.05,
  power = 0.8,
): number | null {
  if (relative === 0 || !Number.isFinite(relative) || !(relativeVariance > 0)) return null;
  const factor =
    ((normalQuantile(1 - alpha / 2, 0, 1) + normalQuantile(power, 0, 1)) ** 2 * relativeVariance) /
    relative ** 2;
  return Math.max(0, Math.ceil((factor - 1) * usersSoFar));
}

export type Decision = 'implement' | 'reject' | 'continue_testing';

/**
 * Seed 000's vocabulary: implement a significant improvement, reject a significant harm, keep
 * testing otherwise; a sample-ratio mismatch means the data cannot be trusted, so keep testing.
 * `pValue` is the one the decision rests on (sequential or fixed, multiplicity-adjusted).
 */
export function decide(pValue: number, lift: number, srmFlag: boolean, alpha = 0.05): Decision {
  if (srmFlag || !(pValue < alpha)) return 'continue_testing';
  return lift > 0 ? 'implement' : 'reject';
}

/** Which test a decision rests on. */
export type DecisionBasis = 'sequential' | 'fixed_horizon';

/** mSPRT's mixing distribution on the relative lift: effects of about ±10%. */
export const RELATIVE_MIXING_VARIANCE = 0.1 ** 2;

export interface ComparisonInput {
  metric: string;
  control: Summary;
  treatment: Summary;
}

export interface Comparison {
  metric: string;
  lift: LiftResult;
  sequential: SequentialResult;
  basis: DecisionBasis;
  /** The basis test's p-value after Holm's adjustment over the comparison's metrics. */
  decisionPValue: number;
  decision: Decision;
  usersStillNeeded: number | null;
}

/**
 * One treatment against control on several metrics: the relative test (fixed horizon) and its
 * sequential twin on the same estimate and variance; the decision rests on the sequential one
 * unless a planned sample (users per arm) was set and both arms reached it; Holm's adjustment over
 * the metrics read together.
 */
export function compare(
  inputs: readonly ComparisonInput[],
  options: { srmFlag: boolean; plannedPerArm?: number | null; alpha?: number },
): Comparison[] {
  const alpha = options.alpha ?? 0.05;
  const results = inputs.map(({ metric, control, treatment }) => {
    const fixed = lift(control, treatment, 1 - alpha);
    const sequential = msprt(fixed.relative, fixed.relativeVariance, RELATIVE_MIXING_VARIANCE, alpha);
    const reached =
      options.plannedPerArm != null &&
      options.plannedPerArm > 0 &&
      Math.min(control.n, treatment.n) >= options.plannedPerArm;
    const basis: DecisionBasis = reached ? 'fixed_horizon' : 'sequential';
    return { metric, fixed, sequential, basis, control, treatment };
  });
  const adjusted = holmAdjust(
    results.map((result) => (result.basis === 'sequential' ? result.sequential.pValue : result.fixed.pValue)),
  );
  return results.map((result, index) => {
    const decisionPValue = adjusted[index] ?? 1;
    const valid = Number.isFinite(result.fixed.relative) && Number.isFinite(decisionPValue);
    return {
      metric: result.metric,
      lift: result.fixed,
      sequential: result.sequential,
      basis: result.basis,
      decisionPValue,
      decision: valid
        ? decide(decisionPValue, result.fixed.relative, options.srmFlag, alpha)
        : 'continue_testing',
      usersStillNeeded: usersStillNeeded(
        result.fixed.relative,
        result.fixed.relativeVariance,
        result.control.n + result.treatment.n,
        alpha,
      ),
    };
  });
}

function zQuantile(confidence: number): number {
  return normalQuantile(1 - (1 - confidence) / 2, 0, 1);
}
