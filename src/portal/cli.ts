import type { ParseArgsConfig } from 'node:util';
import { checkEmail } from '../accounts/email-address.js';
import { AppError } from '../apps/apps.js';
import { systemClock } from '../clock.js';
import type { FerryDatabase } from '../db/database.js';
import { grantOperator, invite } from './invitations.js';

/** The shape of a CLI command in src/main.ts (structural, so this file does not import main). */
interface CliCommand {
  usage: string;
  summary: string;
  options: NonNullable<ParseArgsConfig['options']>;
  positionals?: string[];
  run(args: { values: Record<string, unknown>; positionals: string[]; out: { log(line: string): void } }): Promise<number>;
}

interface CliParts {
  help: NonNullable<ParseArgsConfig['options']>;
  json: NonNullable<ParseArgsConfig['options']>;
  withMigratedDatabase<T>(fn: (database: FerryDatabase) => Promise<T>): Promise<T>;
}

function address(raw: string): string {
  const checked = checkEmail(raw);
  if (!checked.ok) throw new AppError(`${JSON.stringify(raw)} is not an email address (like name@example.com).`);
  return checked.email;
}

/** `ferry portal …`: who may use the developer portal at /portal. */
export function portalCommands({ help, json, withMigratedDatabase }: CliParts): Record<string, CliCommand> {
  return {
    'portal invite': {
      usage: 'ferry portal invite EMAIL [--json]',
      summary: 'Invite a developer to the portal: with FERRY_PORTAL_SIGNUP=closed only invited addresses (and operators) can sign in.',
      options: { ...help, ...json },
      positionals: ['EMAIL'],
      run: ({ values, positionals, out }) =>
        withMigratedDatabase(async (database) => {
          const email = await invite(database.db, systemClock, address(positionals[0]!));
          out.log(values.json ? JSON.stringify({ email, invited: true }) : `Invited ${email}: they sign in at /portal with a code sent to that address.`);
          return 0;
        }),
    },
    'portal grant-operator': {
      usage: 'ferry portal grant-operator EMAIL [--json]',
      summary: 'Make an address a portal operator: sees and manages every app, the CLI’s too. Takes effect at once, or when the address first signs in.',
      options: { ...help, ...json },
      positionals: ['EMAIL'],
      run: ({ values, positionals, out }) =>
        withMigratedDatabase(async (database) => {
          const { email, existingUser } = await grantOperator(database.db, systemClock, address(positionals[0]!));
          if (values.json) out.log(JSON.stringify({ email, operator: true, existingUser }));
          else out.log(existingUser ? `${email} is now an operator.` : `${email} will be an operator from their first sign-in at /portal (invited).`);
          return 0;
        }),
    },
  };
}
