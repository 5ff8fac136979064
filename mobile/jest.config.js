/** jest-expo runs the suite as on a phone (iOS preset), with no device and no network. */
module.exports = {
  preset: 'jest-expo',
  setupFiles: ['./jest.setup.js'],
  setupFilesAfterEnv: ['./jest.after-env.js'],
  testMatch: ['<rootDir>/__tests__/**/*.test.ts?(x)'],
  clearMocks: true,
  testTimeout: 30000,
};
