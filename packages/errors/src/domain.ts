/** The HTTP statuses a domain error can carry: what the REST API answers and the portal shows. */
export type DomainStatus = 400 | 401 | 403 | 404 | 409 | 415 | 422 | 429;

/** A domain error the UI shows next to a field and the REST API returns as {error, field}. */
export class DomainError extends Error {
  constructor(
    message: string,
    readonly status: DomainStatus = 400,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The actor's role does not allow the change (Auditors read only). */
export class ForbiddenError extends DomainError {
  constructor(message = "Auditors can read but not change anything.") {
    super(message, 403);
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string) {
    super(`${what} not found`, 404);
  }
}

/** The change contradicts the current state (already revoked, name taken, ...). */
export class ConflictError extends DomainError {
  constructor(message: string, field?: string) {
    super(message, 409, field);
  }
}

/** Too many attempts (sign-in throttling). */
export class TooManyRequestsError extends DomainError {
  constructor(message: string, field?: string) {
    super(message, 429, field);
  }
}

/** The request body is not in a media type the endpoint reads. */
export class UnsupportedMediaTypeError extends DomainError {
  constructor(message: string) {
    super(message, 415);
  }
}
