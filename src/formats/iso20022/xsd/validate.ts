/**
 * XSD validation of generated and received ISO 20022 files with libxml2 compiled to WASM. The
 * schema arrives as text: reading it from disk is the caller's I/O, so this module stays pure.
 */
import { XmlDocument, XmlLibError, XsdValidator } from 'libxml2-wasm';
import { ErrorCodes, err, ok, type Result } from '../../../domain/index.ts';

/** One problem libxml2 reported, with its place in the validated document. */
export interface XsdIssue {
  message: string;
  line?: number;
  column?: number;
  path?: string;
}

/** Why a document failed validation: not well-formed, schema-invalid, or the schema itself is unusable. */
export interface XsdValidationFailure {
  code: typeof ErrorCodes.XML_SCHEMA_INVALID;
  kind: 'schema-unusable' | 'not-well-formed' | 'invalid';
  message: string;
  issues: XsdIssue[];
}

/** A compiled schema that can validate many documents; call dispose() to free its WASM memory. */
export interface CompiledXsd {
  validate(xml: string): Result<void, XsdValidationFailure>;
  dispose(): void;
}

function toIssues(error: unknown): XsdIssue[] {
  if (error instanceof XmlLibError && error.details.length > 0) {
    return error.details.map((d) => ({
      message: d.message.trim(),
      ...(d.line > 0 ? { line: d.line } : {}),
      ...(d.col > 0 ? { column: d.col } : {}),
      ...(d.xpath === undefined ? {} : { path: d.xpath }),
    }));
  }
  return [{ message: error instanceof Error ? error.message : String(error) }];
}

function failure(
  kind: XsdValidationFailure['kind'],
  lead: string,
  error: unknown,
): { ok: false; error: XsdValidationFailure } {
  const issues = toIssues(error);
  const first = issues[0];
  const where = first?.line === undefined ? '' : ` (line ${first.line})`;
  return err({
    code: ErrorCodes.XML_SCHEMA_INVALID,
    kind,
    message: `${lead}: ${first?.message ?? 'unknown error'}${where}`,
    issues,
  });
}

/** Compiles XSD text once into a validator for many documents; throws nothing, reports an unusable schema on validate. */
export function compileXsd(xsdText: string): CompiledXsd {
  let schemaDoc: XmlDocument | undefined;
  let validator: XsdValidator | undefined;
  let schemaError: { ok: false; error: XsdValidationFailure } | undefined;
  try {
    schemaDoc = XmlDocument.fromString(xsdText);
    validator = XsdValidator.fromDoc(schemaDoc);
  } catch (e) {
    schemaError = failure('schema-unusable', 'the XSD cannot be compiled', e);
  }
  return {
    validate(xml: string): Result<void, XsdValidationFailure> {
      if (validator === undefined)
        return (
          schemaError ?? failure('schema-unusable', 'the XSD cannot be compiled', new Error('no validator'))
        );
      let doc: XmlDocument;
      try {
        // Default parse options: no entity substitution, no DTD loading, no network (XXE-safe).
        doc = XmlDocument.fromString(xml);
      } catch (e) {
        return failure('not-well-formed', 'the document is not well-formed XML', e);
      }
      try {
        validator.validate(doc);
        return ok(undefined);
      } catch (e) {
        return failure('invalid', 'the document does not match the XSD', e);
      } finally {
        doc.dispose();
      }
    },
    dispose(): void {
      validator?.dispose();
      schemaDoc?.dispose();
      validator = undefined;
      schemaDoc = undefined;
    },
  };
}

/** Validates one XML document against XSD text and frees everything it allocated. */
export function validateXml(xml: string, xsdText: string): Result<void, XsdValidationFailure> {
  const compiled = compileXsd(xsdText);
  try {
    return compiled.validate(xml);
  } finally {
    compiled.dispose();
  }
}
