import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** A rule declared once (libs/platform/src/limits) and copied elsewhere: the copies drift apart. */
const LIMITS_HOME = 'libs/platform/src/limits/*.ts';
const secondCopy = (what) => `${what} lives once in ${LIMITS_HOME.replace('*.ts', '')}: import it from @parley/platform`;
const SECOND_COPIES = [
  { selector: 'Literal[regex.pattern=/\\{8\\}.*\\{4\\}.*\\{12\\}/]', message: secondCopy('The UUID check (requireUuid, UUID_PATTERN)') },
  { selector: 'Literal[value=/\\{8\\}.*\\{4\\}.*\\{12\\}/]', message: secondCopy('The UUID check (requireUuid, UUID_PATTERN)') },
  { selector: 'TemplateElement[value.raw=/\\{8\\}.*\\{4\\}.*\\{12\\}/]', message: secondCopy('The UUID check (requireUuid, UUID_PATTERN)') },
  // Decimal only: a bound is written in decimal, a bit mask (0x7f) in hex.
  { selector: "Literal[raw='256']", message: secondCopy('The delivery window (MAX_DELIVERIES_IN_FLIGHT)') },
  { selector: "Literal[raw='127']", message: secondCopy('The device id bound (MAX_DEVICE_ID)') },
  { selector: "Literal[raw=/^(16380|16383|0x3fff)$/i]", message: secondCopy('The registration id bound (MAX_REGISTRATION_ID)') },
  {
    selector: 'VariableDeclarator[id.name=/^((MAX|MIN)_)?(DEVICE_ID|REGISTRATION_ID)(_(MAX|MIN))?$|IN_FLIGHT|PAGE_SIZE$|^UUID/]',
    message: secondCopy('A shared limit'),
  },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'libs/proto/src/gen/**', '**/*.js', '**/*.mjs', '.nx/**', '.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      'no-restricted-syntax': ['error', ...SECOND_COPIES],
    },
  },
  { files: [LIMITS_HOME], rules: { 'no-restricted-syntax': 'off' } },
);
