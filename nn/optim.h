// optim — placeholder; the owner of this part replaces it.
#ifndef REFRAIN_NN_OPTIM_H
#define REFRAIN_NN_OPTIM_H
#endif
