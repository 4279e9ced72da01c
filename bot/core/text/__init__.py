"""Text primitives every layer shares: words, stems, stop words and the language of a text (EN/DE)."""
