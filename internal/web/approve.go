package web

import (
	"net/http"

	"graphgate"
)

// The approval page: where a person approves or declines a send or a
// deletion that an agent asked for with a token (or app) that asks first,
// when the agent's MCP client cannot ask them itself. The agent gives the
// person the link; the page is theirs alone (another person's approval is
// "not found"), and a decision is made once.

func (s *Server) approval(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.Approval(r.Context(), sessionFrom(r).user.ID, r.PathValue("id"))
	if err != nil {
		s.approvalGone(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "approve", "Approve", a)
}

func (s *Server) decideApproval(w http.ResponseWriter, r *http.Request) {
	u := sessionFrom(r).user
	id := r.PathValue("id")
	var approve bool
	switch r.PostFormValue("decision") {
	case "approve":
		approve = true
	case "decline":
	default:
		s.errorPage(w, r, graphgate.Errorf(graphgate.EINVALID, "Choose Approve or Decline."))
		return
	}
	if err := s.store.DecideApproval(r.Context(), u.ID, id, approve); err != nil {
		s.approvalGone(w, r, err)
		return
	}
	a, err := s.store.Approval(r.Context(), u.ID, id)
	if err != nil {
		s.approvalGone(w, r, err)
		return
	}
	_ = s.admin.Record(r.Context(), u, graphgate.ActionApproval, a.Tool, map[string]string{"decision": string(a.State), "token": a.Label})
	s.render(w, r, http.StatusOK, "approve", "Approve", a)
}

// approvalGone says an approval cannot be shown or decided any more.
func (s *Server) approvalGone(w http.ResponseWriter, r *http.Request, err error) {
	if graphgate.ErrorCode(err) != graphgate.ENOTFOUND {
		s.errorPage(w, r, err)
		return
	}
	s.render(w, r, http.StatusNotFound, "error", "Nothing to approve",
		"This request has expired, was already answered, or belongs to someone else. If the agent still needs it, it will ask again.")
}
