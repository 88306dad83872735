// The Agent Card as JSON text, for every step of the register-agent wizard: the start step
// checks a pasted card, the details step edits it, the review shows the request built from it.

export function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export function pretty(value) {
  return JSON.stringify(value, null, 2);
}

/** A JSON.parse failure in words a person can act on. */
export function jsonProblem(text) {
  try {
    const parsed = JSON.parse(text);
    if (!isObject(parsed)) return { problem: `An Agent Card is a JSON object ({ … }), not ${Array.isArray(parsed) ? "an array" : `a ${typeof parsed}`}.` };
    return { parsed };
  } catch (error) {
    return { problem: `This is not valid JSON: ${error.message}` };
  }
}
