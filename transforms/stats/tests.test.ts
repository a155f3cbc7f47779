// The statistics against published worked examples. Each expected value is quoted with its source;
// R prints CIs with 7–8 significant digits, which is what the 1e-6 comparisons use. Statistics a
// source prints with fewer digits are compared with the exact value its published inputs give.
import { describe, expect, it } from 'vitest';
import {
  chiSquareGoodnessOfFit,
  compare,
  cupedAdjust,
  holmAdjust,
  lift,
  msprt,
  msprtPValue,
  usersStillNeeded,
  twoProportionZTest,
  welchTTest,
  type Summary,
} from './tests.ts';

function summarize(values: number[]): Summary {
  const n = values.length;
  const mean = values.reduce((sum, value) => sum + value, 0) / n;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1);
  return { n, mean, variance };
}

const within = (actual: number, expected: number, tolerance: number) =>
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThan(tolerance);

describe("Welch's t-test", () => {
  it('R: t.test(extra ~ group, data = sleep) → t = -1.8608, df = 17.776, p = 0.07939, CI -3.3654832 0.2054832', () => {
    // Source: R documentation, ?t.test examples, on the `sleep` data set (Cushny and Peebles, 1905).
    const group1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
    const group2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];
    const result = welchTTest(summarize(group1), summarize(group2));
    within(result.t, -1.8608, 5e-5);
    within(result.degreesOfFreedom, 17.776, 5e-4);
    within(result.pValue, 0.07939, 5e-6);
    within(result.interval.low, -3.3654832, 1e-6);
    within(result.interval.high, 0.2054832, 1e-6);
  });

  it('ts1 vs ts2 → t = -1.8325, df = 17.9, p = 0.08356, CI -2.1469104 0.1469104', () => {
    // Source: R output quoted in a Q&A on Welch's confidence interval (boxhoidap.com, "Welch's t-test
    // confidence interval python"), t.test(ts1, ts2).
    const ts1 = [11, 9, 10, 11, 10, 12, 9, 11, 12, 9];
    const ts2 = [11, 13, 10, 13, 12, 9, 11, 12, 12, 11];
    const result = welchTTest(summarize(ts1), summarize(ts2));
    within(result.t, -1.8325, 5e-5);
    within(result.pValue, 0.08356, 5e-6);
    within(result.interval.low, -2.1469104, 1e-6);
    within(result.interval.high, 0.1469104, 1e-6);
  });

  it('booklet vs no booklet → t = 2.2361, df = 14.354, p = 0.04171, CI 0.3048395 13.8618272', () => {
    // Source: Statology, "How to Perform Welch's t-test in R" (exam scores of 12 + 12 students).
    const booklet = [90, 85, 88, 89, 94, 91, 79, 83, 87, 88, 91, 90];
    const noBooklet = [67, 90, 71, 95, 88, 83, 72, 66, 75, 86, 93, 84];
    const result = welchTTest(summarize(booklet), summarize(noBooklet));
    within(result.t, 2.2361, 5e-5);
    within(result.degreesOfFreedom, 14.354, 5e-4);
    within(result.pValue, 0.04171, 5e-6);
    within(result.interval.low, 0.3048395, 1e-6);
    within(result.interval.high, 13.8618272, 1e-6);
  });

  it('data_x vs data_y → t = 0.51703, df = 9.48, p = 0.617, CI -1.935420 3.093754', () => {
    // Source: statscodes.com, "Welch's Two Sample T-tests in R".
    const x = [5.1, 2.0, 4.1, 6.2, 7.1, 8.3];
    const y = [1.5, 6.4, 3.3, 5.8, 4.8, 7.2, 5.6, 4.5];
    const result = welchTTest(summarize(x), summarize(y));
    within(result.t, 0.51703, 5e-6);
    within(result.degreesOfFreedom, 9.48, 5e-3);
    within(result.pValue, 0.617, 5e-4);
    within(result.interval.low, -1.93542, 1e-6);
    within(result.interval.high, 3.093754, 1e-6);
  });
});

describe('two-proportion z-test', () => {
  it('179/300 vs 203/400 → X² = 5.4979, p = 0.01904, CI 0.01512659 0.16320674', () => {
    // Source: Gustavus Adolphus College, MCS 142 R notes, prop.test(x = c(179, 203),
    // n = c(300, 400), correct = FALSE): R's X-squared is z².
    const result = twoProportionZTest({ successes: 179, n: 300 }, { successes: 203, n: 400 });
    within(result.z ** 2, 5.4979, 5e-5);
    within(result.pValue, 0.01904, 5e-6);
    within(result.interval.low, 0.01512659, 1e-6);
    within(result.interval.high, 0.16320674, 1e-6);
  });

  it('94/214 vs 39/128 → X² = 6.1026, p = 0.01350, CI 0.03074072 0.23838896', () => {
    // Source: influentialpoints.com, "Two-sample test for independent proportions - using R"
    // (its sample estimates 0.4392523 and 0.3046875 are 94/214 and 39/128; no other small counts
    // with those proportions give its X-squared).
    const result = twoProportionZTest({ successes: 94, n: 214 }, { successes: 39, n: 128 });
    within(result.z ** 2, 6.1026, 5e-5);
    within(result.pValue, 0.0135, 5e-6);
    within(result.interval.low, 0.03074072, 1e-6);
    within(result.interval.high, 0.23838896, 1e-6);
  });

  it('140/200 vs 255/340 → pooled 0.7314815, standard error 0.03949401, z = -1.266015', () => {
    // Source: homeworksource.com, "Find the test statistic z for the following situation" (worked
    // solution). Its p-value uses a t distribution with 538 degrees of freedom, not the normal one
    // a z-test uses, so only the statistic is compared.
    const result = twoProportionZTest({ successes: 140, n: 200 }, { successes: 255, n: 340 });
    within(result.z, -1.266015, 1e-6);
    within((140 / 200 - 255 / 340) / result.z, 0.03949401, 1e-8);
  });
});

describe('chi-square goodness of fit', () => {
  it('c(A = 20, B = 15, C = 25), equal shares → X² = 2.5, df = 2, p = 0.2865', () => {
    // Source: R documentation, ?chisq.test examples. With 2 degrees of freedom the survival
    // function is exp(-x/2) exactly.
    const result = chiSquareGoodnessOfFit([20, 15, 25], [1, 1, 1]);
    within(result.statistic, 2.5, 1e-9);
    expect(result.degreesOfFreedom).toBe(2);
    within(result.pValue, Math.exp(-1.25), 1e-9);
    within(result.pValue, 0.2865, 5e-5);
  });

  it('c(25, 32, 18, 20), equal shares → X² = 4.9158, df = 3, p = 0.1781', () => {
    // Source: "Pearson's chi-square goodness of fit test - using R", textbook problem 1 (students per
    // class year). Exactly: expected 23.75 each, X² = 116.75 / 23.75.
    const result = chiSquareGoodnessOfFit([25, 32, 18, 20], [1, 1, 1, 1]);
    within(result.statistic, 116.75 / 23.75, 1e-9);
    within(result.statistic, 4.9158, 5e-5);
    within(result.pValue, 0.1781, 5e-5);
  });

  it('c(37, 32, 19, 12) against 0.4/0.3/0.2/0.1 → X² = 0.80833, df = 3, p = 0.8475', () => {
    // Source: statscodes.com, "Chi-squared Goodness of Fit Tests in R". Exactly:
    // 9/40 + 4/30 + 1/20 + 4/10.
    const result = chiSquareGoodnessOfFit([37, 32, 19, 12], [0.4, 0.3, 0.2, 0.1]);
    within(result.statistic, 9 / 40 + 4 / 30 + 1 / 20 + 4 / 10, 1e-9);
    within(result.statistic, 0.80833, 5e-6);
    within(result.pValue, 0.8475, 5e-5);
  });
});

describe('lift, CUPED and the sequential p-value', () => {
  it('relative-lift interval by the delta method covers the ratio of means', () => {
    const control = { n: 10_000, mean: 0.4, variance: 0.24 };
    const treatment = { n: 10_000, mean: 0.46, variance: 0.2484 };
    const result = lift(control, treatment);
    within(result.relative, 0.15, 1e-12);
    // Var(T/C) ≈ Var(T)/C² + T²Var(C)/C⁴, with Var(mean) = variance / n.
    const error = Math.sqrt(0.2484 / 10_000 / 0.16 + (0.2116 * 0.24) / 10_000 / 0.0256);
    within(result.relativeInterval.high - result.relative, 1.959963984540054 * error, 1e-9);
    expect(result.pValue).toBeLessThan(1e-10);
  });

  it('CUPED keeps the means unbiased and removes the variance the covariate explains', () => {
    // y = x + noise, x shared: θ = 1, the adjusted variance is the noise's.
    const base = { covariateMean: 5, covariateVariance: 4, covariance: 4 };
    const [control, treatment] = cupedAdjust(
      { n: 1000, mean: 5, variance: 5, ...base },
      { n: 1000, mean: 5.5, variance: 5, ...base },
    );
    within(control.variance, 1, 1e-12);
    within(treatment.mean - control.mean, 0.5, 1e-12);
  });

  it('the mSPRT p-value never undercuts the fixed-horizon one and grows with no effect', () => {
    const control = { n: 5000, mean: 0.4, variance: 0.24 };
    const same = msprtPValue(control, { ...control }, 0.001);
    expect(same).toBe(1);
    const effect = { n: 5000, mean: 0.45, variance: 0.2475 };
    const sequential = msprtPValue(control, effect, 0.001);
    expect(sequential).toBeGreaterThan(
      twoProportionZTest({ successes: 2250, n: 5000 }, { successes: 2000, n: 5000 }).pValue,
    );
    expect(sequential).toBeLessThan(0.05);
  });
});

describe('one coherent test: the p-value, the interval and the decision agree', () => {
  it('the relative p-value is below 0.05 exactly when its 95% interval excludes 0', () => {
    // Counts like the demo's exp_onboarding_v2 / completed_lesson_7d: the absolute z-test says
    // p < 0.05 while the relative interval reaches below 0; the relative test says not significant.
    const control = { n: 1000, mean: 0.3, variance: 0.3 * 0.7 * (1000 / 999) };
    const treatment = { n: 1000, mean: 0.342, variance: 0.342 * 0.658 * (1000 / 999) };
    const absolute = twoProportionZTest({ successes: 342, n: 1000 }, { successes: 300, n: 1000 });
    const relative = lift(control, treatment);
    expect(absolute.pValue).toBeLessThan(0.05);
    expect(relative.relativeInterval.low).toBeLessThan(0);
    expect(relative.pValue).toBeGreaterThan(0.05);
    // At the boundary: the interval's low end at 0 is a p-value of exactly 0.05.
    const boundary = lift({ n: 1, mean: 1, variance: 0 }, { n: 1, mean: 1.1959963984540054, variance: 0.01 });
    within(boundary.relativeInterval.low, 0, 1e-12);
    within(boundary.pValue, 0.05, 1e-12);
  });

  it('the confidence sequence excludes 0 exactly when the always-valid p-value is below alpha', () => {
    for (const estimate of [0, 0.01, 0.05, 0.08, 0.1, 0.2, -0.15]) {
      const result = msprt(estimate, 0.0009, 0.01);
      const excludesZero = result.interval.low > 0 || result.interval.high < 0;
      expect(excludesZero, `estimate ${estimate}`).toBe(result.pValue < 0.05);
    }
    // mSPRT on the difference of means is the same test as before its generalisation.
    const control = { n: 5000, mean: 0.4, variance: 0.24 };
    const effect = { n: 5000, mean: 0.45, variance: 0.2475 };
    within(msprtPValue(control, effect, 0.001), msprt(0.05, (0.24 + 0.2475) / 5000, 0.001).pValue, 1e-15);
  });

  it("Holm: R's p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), 'holm') → 0.05 0.08 0.09 0.09 0.09", () => {
    // Source: Holm (1979)'s step-down rule as R's stats::p.adjust implements it.
    const adjusted = holmAdjust([0.04, 0.01, 0.05, 0.02, 0.03]);
    [0.09, 0.05, 0.09, 0.08, 0.09].forEach((expected, index) =>
      within(adjusted[index] ?? NaN, expected, 1e-12),
    );
  });

  it('users still needed: none once the sample detects the effect, about 4× for half the z', () => {
    // z = 2 × (1.96 + 0.84): the sample is already four times what 80% power needs.
    expect(usersStillNeeded(0.1, (0.1 / (2 * 2.8015852)) ** 2, 2000)).toBe(0);
    // z = (1.96 + 0.84) / 2: four times the users are needed, so three times as many again.
    const needed = usersStillNeeded(0.1, (0.1 / (2.8015852 / 2)) ** 2, 2000) ?? NaN;
    within(needed / 2000, 3, 1e-3);
    expect(usersStillNeeded(0, 0.01, 2000)).toBeNull();
  });

  it('the decision rests on the sequential p-value until a planned sample is reached, Holm over metrics', () => {
    const control = { n: 8000, mean: 0.3, variance: 0.21 };
    const treatment = { n: 8000, mean: 0.32, variance: 0.2176 };
    const inputs = [{ metric: 'completed', control, treatment }];
    const [sequential] = compare(inputs, { srmFlag: false });
    expect(sequential?.basis).toBe('sequential');
    expect(sequential?.lift.pValue).toBeLessThan(0.05);
    expect(sequential?.decisionPValue).toBe(sequential?.sequential.pValue);
    expect(sequential?.decision).toBe('continue_testing');
    const [fixed] = compare(inputs, { srmFlag: false, plannedPerArm: 8000 });
    expect(fixed?.basis).toBe('fixed_horizon');
    expect(fixed?.decision).toBe('implement');
    const [notYet] = compare(inputs, { srmFlag: false, plannedPerArm: 9000 });
    expect(notYet?.basis).toBe('sequential');
    // Two metrics read together: the smaller p-value is doubled by Holm.
    const both = compare([...inputs, { metric: 'other', control, treatment: control }], {
      srmFlag: false,
      plannedPerArm: 8000,
    });
    within(both[0]?.decisionPValue ?? NaN, 2 * (both[0]?.lift.pValue ?? NaN), 1e-12);
    const [broken] = compare(inputs, { srmFlag: true, plannedPerArm: 8000 });
    expect(broken?.decision).toBe('continue_testing');
  });
});
