"""What each command does, apart from parsing its options (``cli``) and printing (``views``)."""
