"""How results are printed for people: findings as lines with hints, the map as a tree or Mermaid."""
