/**
 * Before each test file: the root logger, which code under test logs through in this
 * process, says only errors unless TEST_LOG_LEVEL asks for more, so the test output stays
 * readable. Test apps log to test-results/logs/ (helpers/app.ts); child processes' lines
 * are collected by their helpers.
 */
import { log } from '../src/log.js';

log.level = process.env.TEST_LOG_LEVEL ?? 'error';
