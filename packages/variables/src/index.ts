// @attested/variables: the `${/path}` language of certificate templates, Security Signal Source
// lookup keys and Generic HTTP (URI, Expected result, path filters). One syntax, one key rule, one
// list rule; callers word the problems. No dependencies.
export { compilePath, parsePath, FORBIDDEN_SEGMENTS, type ParsedPath, type PathProblem, type PathRules, type VariablePath } from "./path";
export { lookup } from "./lookup";
export { allValues, firstValue, scalarText, type AllValues, type NotAValue } from "./values";
export { parseVariables, type Parsed, type Part, type PathPart, type SyntaxOptions, type SyntaxProblem } from "./syntax";
