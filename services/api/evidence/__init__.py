"""Evidence (证明材料): files attached to a case's step or a monitoring visit."""
