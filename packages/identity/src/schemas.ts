import { z } from "zod";

export const roleSchema = z.enum(["ADMIN", "AUDITOR"], { message: "Role must be Admin or Auditor" });
export const emailSchema = z.string().trim().toLowerCase().email("Enter a valid email address").max(254);
export const passwordSchema = z.string().min(12, "Password must be at least 12 characters").max(200, "Password must be at most 200 characters");

export const createUserSchema = z.object({
  email: emailSchema,
  name: z.string().trim().min(1, "Name is required").max(100),
  role: roleSchema,
  password: passwordSchema,
});
export type CreateUserInput = z.input<typeof createUserSchema>;

export const updateUserSchema = z.object({
  role: roleSchema.optional(),
  disabled: z.boolean().optional(),
  breakGlass: z.boolean().optional(),
  name: z.string().trim().min(1, "Name is required").max(100).optional(),
});

export const changePasswordSchema = z.object({
  currentPassword: z.string().min(1, "Enter your current password").max(200),
  newPassword: passwordSchema,
});

export const API_TOKEN_DEFAULT_DAYS = 90;
export const createApiTokenSchema = z.object({
  name: z.string().trim().min(1, "Name is required").max(100),
  role: roleSchema,
  expiresInDays: z.coerce
    .number({ message: "Expires in must be a number of days" })
    .int("Expires in must be a whole number of days")
    .min(1, "Expires in must be at least 1 day")
    .max(365, "Expires in must be at most 365 days")
    .default(API_TOKEN_DEFAULT_DAYS),
});
