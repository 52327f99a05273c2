// The module specifiers a TypeScript source imports, read with TypeScript's own parser (not a regex):
// static and type-only imports, re-exports, `import x = require()`, require() calls, dynamic
// import() calls and `import('…')` types, wherever they occur in the file.
import ts from 'typescript';

export interface SourceImport {
  readonly specifier: string;
  readonly kind: 'import' | 'export' | 'dynamic' | 'require' | 'type';
  /** Erased when compiled (`import type`, `export type`, `import('…')` in a type): no runtime dependency. */
  readonly typeOnly: boolean;
}

const literal = (node: ts.Node | undefined): string | undefined => (node && ts.isStringLiteralLike(node) ? node.text : undefined);

const importIsTypeOnly = (node: ts.ImportDeclaration): boolean => {
  const clause = node.importClause;
  if (!clause) return false; // a side-effect import runs the module
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return (
    clause.name === undefined &&
    bindings !== undefined &&
    ts.isNamedImports(bindings) &&
    bindings.elements.length > 0 &&
    bindings.elements.every((e) => e.isTypeOnly)
  );
};

const exportIsTypeOnly = (node: ts.ExportDeclaration): boolean =>
  node.isTypeOnly ||
  (node.exportClause !== undefined &&
    ts.isNamedExports(node.exportClause) &&
    node.exportClause.elements.length > 0 &&
    node.exportClause.elements.every((e) => e.isTypeOnly));

export const sourceImports = (fileName: string, sourceText: string): SourceImport[] => {
  const found: SourceImport[] = [];
  const add = (specifier: string | undefined, kind: SourceImport['kind'], typeOnly = false): void => {
    if (specifier !== undefined) found.push({ specifier, kind, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(literal(node.moduleSpecifier), 'import', importIsTypeOnly(node));
    else if (ts.isExportDeclaration(node)) add(literal(node.moduleSpecifier), 'export', exportIsTypeOnly(node));
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(literal(node.moduleReference.expression), 'require', node.isTypeOnly);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(literal(node.argument.literal), 'type', true);
    else if (ts.isCallExpression(node)) {
      // A computed specifier cannot be checked: it is reported as such so a rule can refuse it.
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) add(literal(node.arguments[0]) ?? '<computed>', 'dynamic');
      else if (ts.isIdentifier(node.expression) && node.expression.text === 'require')
        add(literal(node.arguments[0]) ?? '<computed>', 'require');
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(fileName, sourceText, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS));
  return found;
};
