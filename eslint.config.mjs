// hapi's style (@hapi/eslint-plugin) on TypeScript (typescript-eslint): `npm run lint`, part of `npm test`.
import Hapi from '@hapi/eslint-plugin';
import TsEslint from 'typescript-eslint';


export default TsEslint.config(
    {
        ignores: ['dist/**', 'coverage/**', 'node_modules/**', 'src/generated/**']
    },
    ...Hapi.configs.recommended,
    ...TsEslint.configs.recommended,
    {
        files: ['**/*.ts', '**/*.mjs'],
        languageOptions: {
            sourceType: 'module'
        },
        rules: {
            // Modules export named functions; hapi's expression style is for CommonJS's module.exports.
            'func-style': 'off',
            // TypeScript's own checks: names, overloads and shadowing as the compiler sees them.
            'no-undef': 'off',
            'no-redeclare': 'off',
            'no-unused-vars': 'off',
            '@typescript-eslint/no-unused-vars': ['error', { vars: 'all', args: 'none', caughtErrors: 'none', varsIgnorePattern: '^(internals|_)', argsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }],
            'no-shadow': 'off',
            '@typescript-eslint/no-shadow': ['warn', { allow: ['err', 'done'] }],
            'strict': 'off',
            // A loop's counter is named for what it counts (attempt, round), not i, j, k by depth.
            '@hapi/for-loop': 'off'
        }
    },
    {
        files: ['test/**/*.ts', 'bench/**/*.ts'],
        rules: {
            // Rows and answers read back to be checked, whatever their shape.
            '@typescript-eslint/no-explicit-any': 'off'
        }
    },
    {
        files: ['**/*.cjs'],
        languageOptions: {
            sourceType: 'commonjs'
        },
        rules: {
            '@typescript-eslint/no-require-imports': 'off',
            'strict': ['error', 'global']
        }
    }
);
