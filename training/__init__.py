"""Making and judging the models: the data, MNIST, augmentation, training, the whole-digit
check's examples, retraining with users' digits, the digit/writing/mark check and evaluation.

Reading a photo (`model`) never imports this package; it imports `model` for the stages that
training shares with reading (the photo path, the NIST normalization, the model files).
"""
