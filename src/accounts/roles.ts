/** The roles of the user_role enum, lowest privilege first. */
export const ROLES = ['CLIENT', 'OPERATOR', 'ADMIN'] as const;
export type Role = (typeof ROLES)[number];

/** A signed-in user as requests see it. */
export interface AuthUser {
  id: string;
  email: string;
  role: Role;
}
