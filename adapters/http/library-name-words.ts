/**
 * Engine messages in the words of the APIs that call a library `library_name`: the engine names the field
 * `library` and says "library name ...".
 */
import type { InvalidArgumentError } from '../../core/errors';

export function inLibraryNameWords(e: InvalidArgumentError): string {
  return e.field === 'library' ? e.message.replace(/^library name\b/, 'library_name') : e.message;
}
