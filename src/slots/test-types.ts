/** The kinds of test a slot is for: the test_type enum's values. */
export const TEST_TYPES = ['practical', 'theory'] as const;

export type TestType = (typeof TEST_TYPES)[number];
