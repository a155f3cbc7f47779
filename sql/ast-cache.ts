// The engine's syntax trees of recent statements, by their text: a tree depends on nothing else, so
// a dashboard or notebook repeating its queries (other parameter values bind outside the text) is
// checked without another `EXPLAIN AST` round trip through the one control session.
export class AstCache {
  private readonly trees = new Map<string, string>();

  constructor(
    private readonly parse: (text: string) => Promise<string>,
    /** Trees kept, least recently used dropped first. */
    private readonly maxEntries = 1000,
    /** Longer statements are parsed every time: they are rare and would crowd the memory. */
    private readonly maxTextLength = 16 * 1024,
  ) {}

  async treeOf(text: string): Promise<string> {
    const known = this.trees.get(text);
    if (known !== undefined) {
      this.trees.delete(text);
      this.trees.set(text, known);
      return known;
    }
    const tree = await this.parse(text);
    if (text.length > this.maxTextLength) return tree;
    this.trees.set(text, tree);
    if (this.trees.size > this.maxEntries) this.trees.delete(this.trees.keys().next().value!);
    return tree;
  }
}
