// SPDX-License-Identifier: MIT
// Files (`type: "files"`): objects in an S3 bucket, a metadata event per file on its target.
export type { FileInfo, FileServiceOptions } from './service.js';
export { FileService } from './service.js';
export type { FileStoreOptions, StoredObject } from './store.js';
export { FileStore, FileTooLargeError, filePartBytes } from './store.js';
