// User segments (country, platform, signup month): the one rule that says who is in a segment,
// over dim_users and over the pre-aggregates that keep those three columns per cell.

/**
 * The segment filter over the columns holding a row's country, platform and signup month, bound as
 * `{country}`, `{platform}` and `{cohort}`; an empty value matches everyone.
 */
function inSegment(columns: { country: string; platform: string; signupMonth: string }): string {
  return `({country:String} = '' OR ${columns.country} = {country:String})
  AND ({platform:String} = '' OR ${columns.platform} = {platform:String})
  AND ({cohort:String} = '' OR ${columns.signupMonth} = {cohort:String})`;
}

/** dim_users' rows of a segment: the pack's (`{pack}`) users of a country, platform and signup month. */
export const IN_USER_SEGMENT = `pack = {pack:String}
  AND ${inSegment({ country: 'country', platform: 'platform', signupMonth: "formatDateTime(signup_at, '%Y-%m')" })}`;

/** A pre-aggregate's segment cells (columns `country`, `platform`, `signup_month`) in a segment. */
export const IN_SEGMENT_CELL = inSegment({
  country: 'country',
  platform: 'platform',
  signupMonth: 'signup_month',
});
