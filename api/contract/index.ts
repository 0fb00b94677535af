// SPDX-License-Identifier: MIT
// The API's contract with its document: strict validation, framework errors as problem+json, every
// status and link documented.
export { declaredStatuses, documentRoute, operationIdOf } from './document.js';
export {
  clientErrorHandler,
  frameworkErrorHandler,
  RouteMethods,
  registerMethodNotAllowed,
} from './framework-errors.js';
export { finishDocument, links, optionalBodies } from './links.js';
export { buildStrictValidator } from './validation.js';
