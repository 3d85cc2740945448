/** The kinds of test a slot is for: the test_type enum's values. */
export const TEST_TYPES = ['practical', 'theory'] as const;

export type TestType = (typeof TEST_TYPES)[number];

/** How a learner reads each kind in a sentence ("a slot for a practical driving test"). */
export const TEST_TYPE_NAMES: Record<TestType, string> = { practical: 'practical driving test', theory: 'theory test' };
