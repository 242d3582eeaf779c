/** A domain error the UI shows next to a field and the REST API returns as {error, field}. */
export class DomainError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 401 | 403 | 404 | 409 | 422 | 429 = 400,
    readonly field?: string,
  ) {
    super(message);
  }
}
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
